package dev.understudy.driver;

import dev.understudy.driver.failover.FailoverConnection;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The Understudy JDBC driver: {@code jdbc:understudy:postgresql://proxy1:7432,proxy2:7432/db} or
 * {@code jdbc:understudy:postgresql:zk://zk1:2181/<cluster>/db}. Registered with DriverManager when
 * loaded (and found through the {@code java.sql.Driver} service); the connections it makes
 * survive the loss of a proxy and a failover (see docs/driver.md).
 */
public final class UnderstudyDriver implements Driver {

    private static final UnderstudyDriver INSTANCE = new UnderstudyDriver();

    static {
        try {
            DriverManager.registerDriver(INSTANCE);
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The registered instance. */
    public static UnderstudyDriver instance() {
        return INSTANCE;
    }

    /**
     * A connection to the cluster {@code url} names, or null when the URL is not this driver's
     * (as JDBC asks).
     *
     * @throws SQLException 22023 naming a malformed URL or invalid property; 08001 when no proxy
     *     (in direct mode: no master) answered within {@code failoverTimeoutMs}; the server's own
     *     error when it refused the login
     */
    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        return FailoverConnection.open(DriverSettings.of(url, info));
    }

    @Override
    public boolean acceptsURL(String url) {
        return UnderstudyUrl.accepts(url);
    }

    /** The driver's own properties, with their defaults and descriptions (the vendor's are not listed). */
    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        List<DriverPropertyInfo> out = new ArrayList<>();
        for (DriverProperty p : DriverProperty.values()) {
            String given = info == null ? null : info.getProperty(p.key());
            DriverPropertyInfo i = new DriverPropertyInfo(p.key(), given == null ? p.defaultValue() : given);
            i.description = p.description();
            out.add(i);
        }
        return out.toArray(DriverPropertyInfo[]::new);
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    /** Not a JDBC-compliant driver by itself: it is as compliant as the vendor driver it wraps. */
    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("the driver logs through System.Logger (dev.understudy.driver.*)");
    }
}
