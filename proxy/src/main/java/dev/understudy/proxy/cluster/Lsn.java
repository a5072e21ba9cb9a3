package dev.understudy.proxy.cluster;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * PostgreSQL WAL positions ({@code pg_lsn}, written {@code 16/B374D848}) as longs: the high 32
 * bits, then the low 32 bits, so positions compare and subtract as numbers (in bytes of WAL).
 * {@value #UNKNOWN} stands for a position that is not known.
 */
public final class Lsn {

    public static final long UNKNOWN = -1;
    private static final Pattern FORM = Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");

    private Lsn() {}

    /** The position written as PostgreSQL prints a pg_lsn; {@link #UNKNOWN} for null. */
    public static long parse(String text) {
        if (text == null) {
            return UNKNOWN;
        }
        if (!FORM.matcher(text).matches()) {
            throw new IllegalArgumentException("not a pg_lsn: " + text);
        }
        int slash = text.indexOf('/');
        long high = Long.parseLong(text, 0, slash, 16);
        long low = Long.parseLong(text, slash + 1, text.length(), 16);
        long lsn = high << 32 | low;
        if (lsn < 0) {
            throw new IllegalArgumentException("pg_lsn beyond 7FFFFFFF/FFFFFFFF: " + text);
        }
        return lsn;
    }

    /** The position as PostgreSQL prints it; "unknown" for {@link #UNKNOWN}. */
    public static String format(long lsn) {
        if (lsn < 0) {
            return "unknown";
        }
        return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase(Locale.ROOT);
    }
}
