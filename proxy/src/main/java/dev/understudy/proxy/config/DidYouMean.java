package dev.understudy.proxy.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** Suggests the known key nearest to a misspelt one, by edit distance. */
final class DidYouMean {
    private static final int MAX_DISTANCE = 2;

    private DidYouMean() {}

    static Optional<String> nearest(String unknown, Collection<String> known) {
        String typed = unknown.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = distance(typed, candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        boolean close = bestDistance <= MAX_DISTANCE && bestDistance < Math.max(2, typed.length() / 2);
        return close ? Optional.of(best) : Optional.empty();
    }

    /** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j], d[i][j - 1]) + 1);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
