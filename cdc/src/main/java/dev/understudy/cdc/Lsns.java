package dev.understudy.cdc;

/** PostgreSQL's LSN text form ({@code 16/B374D848}) of a position. */
final class Lsns {

    private Lsns() {}

    static String format(long lsn) {
        return lsn < 0 ? "none" : Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
    }
}
