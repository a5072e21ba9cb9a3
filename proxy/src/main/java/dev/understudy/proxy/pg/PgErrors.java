package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;

/** Maps {@link ProxyException} to PostgreSQL's ErrorResponse: the one place SQLSTATEs are chosen. */
public final class PgErrors {

    private PgErrors() {}

    public static String sqlState(ProxyException.Kind kind) {
        return switch (kind) {
            case PROTOCOL_VIOLATION -> "08P01";
            case FEATURE_NOT_SUPPORTED -> "0A000";
            case AUTHENTICATION_FAILED -> "28P01";
            case INVALID_AUTHORIZATION -> "28000";
            case INSUFFICIENT_PRIVILEGE -> "42501";
            case TOO_MANY_CONNECTIONS -> "53300";
            case BACKEND_UNAVAILABLE -> "08006";
            case NO_WRITABLE_MASTER -> "57P03";
            case TRANSACTION_RESOLUTION_UNKNOWN -> "08007";
            case INVALID_PARAMETER_VALUE -> "22023";
            case SHUTTING_DOWN -> "57P01";
            case INTERNAL -> "XX000";
        };
    }

    /** FATAL when the session closes right after, ERROR when it goes on. */
    public static ErrorResponse toErrorResponse(ProxyException e, boolean fatal) {
        return BackendCodec.error(fatal ? "FATAL" : "ERROR", sqlState(e.kind()), e.getMessage(), null, null);
    }

    public static byte[] encode(ProxyException e, boolean fatal) {
        return BackendCodec.encode(toErrorResponse(e, fatal));
    }
}
