package dev.understudy.proxy.pg;

/**
 * Messages a PostgreSQL client sends after startup (protocol v3), decoded only as far as the proxy
 * needs: names and SQL text, never parameter values or COPY payloads. The proxy relays the
 * original bytes; these records are what it reads to track and route.
 */
public sealed interface FrontendMessage {

    /** 'Q' Query: one or more statements in the simple query protocol. */
    record Query(String sql) implements FrontendMessage {}

    /** 'P' Parse: prepare {@code sql} as {@code statement} ("" = unnamed). */
    record Parse(String statement, String sql, int parameterTypeCount) implements FrontendMessage {}

    /** 'B' Bind: bind {@code statement} into {@code portal} ("" = unnamed). */
    record Bind(String portal, String statement) implements FrontendMessage {}

    /** 'D' Describe: {@code kind} is 'S' (statement) or 'P' (portal). */
    record Describe(char kind, String name) implements FrontendMessage {}

    /** 'E' Execute: run {@code portal}, at most {@code maxRows} rows (0 = all). */
    record Execute(String portal, int maxRows) implements FrontendMessage {}

    /** 'C' Close: {@code kind} is 'S' (statement) or 'P' (portal). */
    record Close(char kind, String name) implements FrontendMessage {}

    /** 'S' Sync: end of an extended-protocol batch. */
    record Sync() implements FrontendMessage {}

    /** 'H' Flush: send what is pending without ending the batch. */
    record Flush() implements FrontendMessage {}

    /** 'F' FunctionCall: the legacy fast-path call of a function by OID. */
    record FunctionCall(int functionOid) implements FrontendMessage {}

    /** 'd' CopyData: a chunk of COPY FROM STDIN data (payload not decoded). */
    record CopyData() implements FrontendMessage {}

    /** 'c' CopyDone. */
    record CopyDone() implements FrontendMessage {}

    /** 'f' CopyFail. */
    record CopyFail(String reason) implements FrontendMessage {}

    /** 'X' Terminate. */
    record Terminate() implements FrontendMessage {}

    /**
     * 'p' during authentication: a PasswordMessage, SASLInitialResponse or SASLResponse. Which one
     * depends on what the server asked for, so the payload stays raw here.
     */
    record AuthResponse(byte[] payload) implements FrontendMessage {
        @Override
        public String toString() {
            return "AuthResponse[" + payload.length + " bytes]";
        }
    }
}
