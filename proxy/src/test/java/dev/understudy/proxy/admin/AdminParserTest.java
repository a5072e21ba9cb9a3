package dev.understudy.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AdminParserTest {

    @Test
    void everyShowParsesWhateverTheCaseAndSpacing() throws AdminException {
        for (AdminStatement.What what : AdminStatement.What.values()) {
            assertEquals(new AdminStatement.Show(what), AdminParser.parse("SHOW " + what.name()));
            assertEquals(new AdminStatement.Show(what), AdminParser.parse("  show\n\t" + what.name().toLowerCase() + " ;"));
        }
        assertEquals(new AdminStatement.Show(AdminStatement.What.CLUSTER),
                AdminParser.parse("/* from a script */ Show -- what\n Cluster"));
    }

    @Test
    void switchoverNamesItsTarget() throws AdminException {
        assertEquals(new AdminStatement.Switchover("pg2"), AdminParser.parse("SWITCHOVER TO 'pg2'"));
        assertEquals(new AdminStatement.Switchover("pg3"), AdminParser.parse("switchover to pg3;"));
        assertEquals(List.of("old_master", "new_master", "epoch", "write_pause_ms"),
                AdminParser.parse("SWITCHOVER TO 'pg2'").columns());
    }

    @Test
    void failoverMayNameItsTargetAndRejoinNamesANode() throws AdminException {
        assertEquals(new AdminStatement.Failover(null), AdminParser.parse("FAILOVER"));
        assertEquals(new AdminStatement.Failover("pg3"), AdminParser.parse("failover to 'pg3';"));
        assertEquals(new AdminStatement.Rejoin("pg1"), AdminParser.parse("REJOIN 'pg1'"));
        assertEquals(new AdminStatement.Drill(null), AdminParser.parse("test switchover"));
        assertEquals(new AdminStatement.Drill("pg2"), AdminParser.parse("TEST SWITCHOVER TO 'pg2'"));
        for (String sql : List.of("FAILOVER 'pg3'", "FAILOVER TO", "REJOIN", "REJOIN 'a' 'b'")) {
            assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.parse(sql), sql).sqlState(), sql);
        }
    }

    @Test
    void setNodeTakesAQuotedOrABareName() throws AdminException {
        assertEquals(new AdminStatement.SetNode("pg2", false), AdminParser.parse("SET NODE 'pg2' OFFLINE"));
        assertEquals(new AdminStatement.SetNode("Replica 'B'", true), AdminParser.parse("set node 'Replica ''B''' online;"));
        assertEquals(new AdminStatement.SetNode("pg3", true), AdminParser.parse("SET NODE PG3 ONLINE"));
        for (String sql : List.of("SET NODE 'pg2'", "SET NODE '' OFFLINE", "SET NODE 'pg2' DOWN", "SET NODE 3 OFFLINE")) {
            assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.parse(sql), sql).sqlState(), sql);
        }
    }

    @Test
    void addReplicaReadsItsAddressFromHostPortOrAPostgresqlUrl() throws AdminException {
        assertEquals(new AdminStatement.AddReplica("pg4", "10.0.0.4", 5433), AdminParser.parse("ADD REPLICA 'pg4' URL '10.0.0.4:5433'"));
        assertEquals(new AdminStatement.AddReplica("pg4", "db4.example", 5432), AdminParser.parse("add replica pg4 url 'db4.example'"));
        assertEquals(new AdminStatement.AddReplica("r-5", "db5", 6000),
                AdminParser.parse("ADD REPLICA 'r-5' URL 'postgresql://someone@db5:6000/app?sslmode=disable';"));
        assertEquals(new AdminStatement.AddReplica("r6", "db6", 5432), AdminParser.parse("ADD REPLICA r6 URL 'jdbc:postgresql://db6/app'"));
        assertEquals(new AdminStatement.AddReplica("r7", "::1", 5440), AdminParser.parse("ADD REPLICA r7 URL 'postgres://[::1]:5440'"));
        for (String url : List.of("", ":5432", "db:0", "db:70000", "db:54x", "mysql://db:3306", "db 5432")) {
            AdminException e = assertThrows(AdminException.class, () -> AdminParser.parse("ADD REPLICA 'r' URL '" + url + "'"), url);
            assertEquals("22023", e.sqlState(), url);
            assertTrue(e.getMessage().contains(url), e.getMessage());
        }
        assertEquals("42602", assertThrows(AdminException.class,
                () -> AdminParser.parse("ADD REPLICA 'a/b' URL 'db:5432'")).sqlState(), "a name that cannot name a znode");
        for (String sql : List.of("ADD REPLICA 'r'", "ADD REPLICA 'r' URL db", "ADD 'r' URL 'db'", "ADD REPLICA URL 'db'")) {
            assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.parse(sql), sql).sqlState(), sql);
        }
    }

    @Test
    void removeReplicaNamesANodeAndReloadConfigTakesNothing() throws AdminException {
        assertEquals(new AdminStatement.RemoveReplica("pg3"), AdminParser.parse("REMOVE REPLICA 'pg3'"));
        assertEquals(new AdminStatement.RemoveReplica("pg3"), AdminParser.parse("remove replica pg3;"));
        assertEquals(new AdminStatement.ReloadConfig(), AdminParser.parse("reload config"));
        assertEquals(List.of("node", "file", "applied", "needs_restart", "error"), AdminParser.parse("RELOAD CONFIG").columns());
        for (String sql : List.of("REMOVE REPLICA", "REMOVE 'pg3'", "RELOAD", "RELOAD CONFIG NOW")) {
            assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.parse(sql), sql).sqlState(), sql);
        }
    }

    @Test
    void sessionSettingsThatDriversSendAreAcceptedAndIgnored() throws AdminException {
        assertEquals(new AdminStatement.Set("application_name"),
                AdminParser.parse("SET application_name = 'PostgreSQL JDBC Driver'"));
        assertEquals(new AdminStatement.Set("extra_float_digits"), AdminParser.parse("SET extra_float_digits TO 3"));
        assertEquals(new AdminStatement.Set("datestyle"), AdminParser.parse("SET SESSION DateStyle = ISO, MDY"));
        assertEquals(new AdminStatement.Set("statement_timeout"), AdminParser.parse("RESET statement_timeout"));
        assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.parse("SET application_name")).sqlState());
    }

    @Test
    void aQueryStringSplitsAtSemicolonsOutsideQuotesAndComments() throws AdminException {
        assertEquals(List.of("SHOW CLUSTER", "SHOW STATS"), AdminParser.split("SHOW CLUSTER; SHOW STATS;"));
        assertEquals(List.of("X 'a;b'", "Y"), AdminParser.split("X 'a;b'; /* ; */ Y -- ;"));
        assertEquals(List.of("X 'it''s'"), AdminParser.split("X 'it''s'"));
        assertEquals(List.of(), AdminParser.split(" ; ;"));
    }

    @Test
    void anythingElseIsASyntaxErrorWhoseHintListsWhatExists() {
        for (String sql : List.of("SELECT 1", "SHOW", "SHOW CLUSTERS", "SHOW CLUSTER NOW", "SWITCHOVER 'pg2'", "SWITCHOVER TO", "",
                "SHOW CLUSTER; SHOW STATS", "SHOW 'cluster'", "SHOW CLUSTER!")) {
            AdminException e = assertThrows(AdminException.class, () -> AdminParser.parse(sql), sql);
            assertEquals("42601", e.sqlState(), sql);
            assertTrue(e.hint().contains("SHOW REPLICATION"), e.hint());
        }
    }

    @Test
    void anUnterminatedQuoteOrCommentIsASyntaxError() {
        assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.split("SHOW 'x")).sqlState());
        assertEquals("42601", assertThrows(AdminException.class, () -> AdminParser.split("SHOW /* x")).sqlState());
    }
}
