package dev.understudy.proxy.pg;

import java.util.List;

/**
 * Server-to-client messages that the proxy itself writes to its clients or must understand when it
 * logs in to a database. Everything else a database sends is relayed without being decoded.
 */
public sealed interface BackendMessage {

    /** 'R' AuthenticationOk. */
    record AuthenticationOk() implements BackendMessage {}

    /** 'R' AuthenticationCleartextPassword. */
    record AuthenticationCleartextPassword() implements BackendMessage {}

    /** 'R' AuthenticationMD5Password. */
    record AuthenticationMd5Password(byte[] salt) implements BackendMessage {}

    /** 'R' AuthenticationSASL: the mechanisms the server offers. */
    record AuthenticationSasl(List<String> mechanisms) implements BackendMessage {}

    /** 'R' AuthenticationSASLContinue. */
    record AuthenticationSaslContinue(byte[] data) implements BackendMessage {}

    /** 'R' AuthenticationSASLFinal. */
    record AuthenticationSaslFinal(byte[] data) implements BackendMessage {}

    /** 'R' with a method the proxy does not implement (Kerberos, GSS, SSPI). */
    record AuthenticationUnsupported(int code) implements BackendMessage {}

    /** 'S' ParameterStatus. */
    record ParameterStatus(String name, String value) implements BackendMessage {}

    /** 'K' BackendKeyData: the key a CancelRequest must present. */
    record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {
        @Override
        public String toString() {
            return "BackendKeyData[processId=" + processId + "]";
        }
    }

    /** 'Z' ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
    record ReadyForQuery(char status) implements BackendMessage {}

    /** 'E' ErrorResponse. */
    record ErrorResponse(List<Field> fields) implements BackendMessage {
        public String field(char code) {
            for (Field f : fields) {
                if (f.code() == code) {
                    return f.value();
                }
            }
            return null;
        }

        public String severity() {
            return field('S');
        }

        public String sqlState() {
            return field('C');
        }

        public String message() {
            return field('M');
        }
    }

    /** 'N' NoticeResponse. */
    record NoticeResponse(List<Field> fields) implements BackendMessage {}

    /** 'v' NegotiateProtocolVersion. */
    record NegotiateProtocolVersion(int newestMinor, List<String> unrecognizedOptions) implements BackendMessage {}

    /** 'T' RowDescription of text columns (type text, format text), as the proxy answers itself. */
    record RowDescription(List<String> columns) implements BackendMessage {}

    /** 'D' DataRow of text values (null: SQL NULL). */
    record DataRow(List<String> values) implements BackendMessage {}

    /** 'C' CommandComplete. */
    record CommandComplete(String tag) implements BackendMessage {}

    /** 'I' EmptyQueryResponse. */
    record EmptyQueryResponse() implements BackendMessage {}

    /** '1' ParseComplete. */
    record ParseComplete() implements BackendMessage {}

    /** '2' BindComplete. */
    record BindComplete() implements BackendMessage {}

    /** '3' CloseComplete. */
    record CloseComplete() implements BackendMessage {}

    /** 'n' NoData. */
    record NoData() implements BackendMessage {}

    /** 't' ParameterDescription of a statement without parameters. */
    record NoParameters() implements BackendMessage {}

    /** One field of an ErrorResponse or NoticeResponse: 'S' severity, 'C' SQLSTATE, 'M' message, ... */
    record Field(char code, String value) {}
}
