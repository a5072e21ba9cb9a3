package dev.understudy.driver;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells HikariCP not to evict a connection that threw 08S02 or 08007: the driver has already
 * replaced what was lost behind it, and the connection is ready for the next statement. Every
 * other error is left to HikariCP's own judgement (08001, no proxy answered, still evicts).
 *
 * <p>{@code config.setExceptionOverrideClassName("dev.understudy.driver.HikariExceptionOverride")}.
 */
public final class HikariExceptionOverride implements SQLExceptionOverride {

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        String state = e.getSQLState();
        return "08S02".equals(state) || "08007".equals(state) ? Override.DO_NOT_EVICT : Override.CONTINUE_EVICT;
    }
}
