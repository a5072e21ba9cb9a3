package dev.understudy.cdc;

/** PostgreSQL's LSN text form ({@code 16/B374D848}) of a position. */
final class Lsns {

    private Lsns() {}

    /** The position an LSN's text form names. */
    static long parse(String lsn) {
        int slash = lsn.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not an LSN: " + lsn);
        }
        return Long.parseLong(lsn.substring(0, slash), 16) << 32 | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    static String format(long lsn) {
        return lsn < 0 ? "none" : Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
    }
}
