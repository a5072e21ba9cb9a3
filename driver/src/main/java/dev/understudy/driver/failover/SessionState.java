package dev.understudy.driver.failover;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * The session settings an application made through JDBC, kept so that a new vendor connection
 * gets them too: auto-commit, read-only, isolation, catalog, schema, holdability, client info,
 * network timeout and type map. Only what the application set is restored; the rest stays the
 * server's default. Settings made with SQL ({@code SET ...}) are not seen here.
 */
final class SessionState {

    private Boolean autoCommit;
    private Boolean readOnly;
    private Integer isolation;
    private String catalog;
    private String schema;
    private Integer holdability;
    private Properties clientInfo;
    private Executor networkExecutor;
    private Integer networkTimeout;
    private Map<String, Class<?>> typeMap;
    /** Grows with every change, so that a vendor connection can tell whether it has the latest. */
    private int version;

    /** Whether {@code name} is a setter this keeps. */
    static boolean tracks(String name) {
        return switch (name) {
            case "setAutoCommit", "setReadOnly", "setTransactionIsolation", "setCatalog", "setSchema", "setHoldability",
                 "setClientInfo", "setNetworkTimeout", "setTypeMap" -> true;
            default -> false;
        };
    }

    /** Keeps what setter {@code m} (one {@link #tracks} accepts) set, after the vendor connection took it. */
    @SuppressWarnings("unchecked")
    void record(Method m, Object[] args) {
        switch (m.getName()) {
            case "setAutoCommit" -> autoCommit = (Boolean) args[0];
            case "setReadOnly" -> readOnly = (Boolean) args[0];
            case "setTransactionIsolation" -> isolation = (Integer) args[0];
            case "setCatalog" -> catalog = (String) args[0];
            case "setSchema" -> schema = (String) args[0];
            case "setHoldability" -> holdability = (Integer) args[0];
            case "setClientInfo" -> {
                if (clientInfo == null) {
                    clientInfo = new Properties();
                }
                if (args.length == 1) {
                    clientInfo.clear();
                    if (args[0] != null) {
                        clientInfo.putAll((Properties) args[0]);
                    }
                } else if (args[1] == null) {
                    clientInfo.remove(args[0]);
                } else {
                    clientInfo.setProperty((String) args[0], (String) args[1]);
                }
            }
            case "setNetworkTimeout" -> {
                networkExecutor = (Executor) args[0];
                networkTimeout = (Integer) args[1];
            }
            case "setTypeMap" -> typeMap = (Map<String, Class<?>>) args[0];
            default -> throw new IllegalArgumentException(m.getName() + " is not a session setting");
        }
        version++;
    }

    int version() {
        return version;
    }

    boolean autoCommit() {
        return autoCommit == null || autoCommit;
    }

    boolean readOnly() {
        return readOnly != null && readOnly;
    }

    /**
     * Gives {@code p} every setting the application made, unless it has them already; called
     * between transactions only. The settings that pgjdbc makes with SQL ({@code SET}) are made in
     * auto-commit mode, so that no transaction of the application's later rolls them back;
     * auto-commit comes last.
     */
    void restore(Physical p) throws SQLException {
        if (p.settingsVersion == version) {
            return;
        }
        Connection c = p.vendor;
        if (!c.getAutoCommit()) {
            c.setAutoCommit(true);
        }
        if (readOnly != null) {
            c.setReadOnly(readOnly);
        }
        if (isolation != null) {
            c.setTransactionIsolation(isolation);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (holdability != null) {
            c.setHoldability(holdability);
        }
        if (clientInfo != null) {
            c.setClientInfo(clientInfo);
        }
        if (networkTimeout != null) {
            c.setNetworkTimeout(networkExecutor, networkTimeout);
        }
        if (typeMap != null) {
            c.setTypeMap(typeMap);
        }
        if (autoCommit != null) {
            c.setAutoCommit(autoCommit);
        }
        p.settingsVersion = version;
    }
}
