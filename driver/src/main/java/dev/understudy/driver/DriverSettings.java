package dev.understudy.driver;

import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;

/**
 * A connection's settings: the URL, the driver's own properties validated, and the properties the
 * vendor driver receives (everything else, unchanged). Built once per {@code connect}, then fixed.
 *
 * @param url the parsed URL
 * @param hostOrder how to pick among endpoints
 * @param failoverTimeout how long to keep trying to reach an endpoint
 * @param retryReads re-run an interrupted read instead of throwing 08S02
 * @param directMode connect straight to the database nodes
 * @param zkSessionTimeout the ZooKeeper client's session timeout
 * @param vendorProperties what the vendor driver receives
 */
public record DriverSettings(UnderstudyUrl url, HostOrder hostOrder, Duration failoverTimeout, boolean retryReads,
                             boolean directMode, Duration zkSessionTimeout, Properties vendorProperties) {

    /** How to pick among endpoints ({@code hostOrder}). */
    public enum HostOrder { RANDOM, ORDERED }

    /**
     * Settings from {@code url} and {@code info}; a key in the URL's query wins over the same key in
     * {@code info}.
     *
     * @throws SQLException SQLSTATE 22023 naming the URL or the property that is wrong
     */
    public static DriverSettings of(String url, Properties info) throws SQLException {
        UnderstudyUrl parsed = UnderstudyUrl.parse(url);
        Properties all = new Properties();
        if (info != null) {
            info.stringPropertyNames().forEach(k -> all.setProperty(k, info.getProperty(k)));
        }
        parsed.parameters().forEach(all::setProperty);
        Map<DriverProperty, Object> values = new EnumMap<>(DriverProperty.class);
        Properties vendor = new Properties();
        for (String key : all.stringPropertyNames()) {
            String value = all.getProperty(key);
            var property = DriverProperty.forKey(key);
            if (property.isPresent()) {
                try {
                    values.put(property.get(), property.get().parse(value));
                } catch (IllegalArgumentException e) {
                    throw invalid("invalid value '" + value + "' for property " + key + ": " + e.getMessage());
                }
                continue;
            }
            var lookalike = DriverProperty.lookalike(key);
            if (lookalike.isPresent()) {
                throw invalid("unknown property " + key + ": did you mean " + lookalike.get().key() + "?");
            }
            vendor.setProperty(key, value);
        }
        for (DriverProperty p : DriverProperty.values()) {
            values.computeIfAbsent(p, q -> q.parse(q.defaultValue()));
        }
        boolean direct = (Boolean) values.get(DriverProperty.DIRECT_MODE);
        if (direct && !parsed.discovered()) {
            throw invalid("property directMode needs a ZooKeeper URL (" + UnderstudyUrl.PREFIX + parsed.vendor()
                    + ":zk://zkhost:2181/cluster/database): the database nodes are read from there");
        }
        return new DriverSettings(parsed,
                values.get(DriverProperty.HOST_ORDER).equals("ordered") ? HostOrder.ORDERED : HostOrder.RANDOM,
                Duration.ofMillis((Integer) values.get(DriverProperty.FAILOVER_TIMEOUT_MS)),
                (Boolean) values.get(DriverProperty.RETRY_READS),
                direct,
                Duration.ofMillis((Integer) values.get(DriverProperty.ZK_SESSION_TIMEOUT_MS)),
                vendor);
    }

    private static SQLException invalid(String message) {
        return new SQLException(message, "22023");
    }
}
