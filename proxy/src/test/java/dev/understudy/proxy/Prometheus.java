package dev.understudy.proxy;

/** Reads samples out of a scrape in Prometheus' text format. */
public final class Prometheus {

    private Prometheus() {}

    /** The value of {@code series} (name and labels, as exported) in {@code text}, NaN when absent. */
    public static double sample(String text, String series) {
        return text.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(Double.NaN);
    }
}
