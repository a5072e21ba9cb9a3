package dev.understudy.cdc;

import java.util.Properties;

/** The one place where Understudy's capture settings become Debezium's. */
final class DebeziumSettings {

    private DebeziumSettings() {}

    static Properties of(CdcConfig c, String topicPrefix) {
        Properties p = new Properties();
        p.setProperty("name", "understudy-" + c.slot());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        // durable offsets are the slot and each replica's _understudy.applied (see Capture)
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "0");
        p.setProperty("database.hostname", c.host());
        p.setProperty("database.port", Integer.toString(c.port()));
        p.setProperty("database.user", c.user());
        p.setProperty("database.password", c.password());
        p.setProperty("database.dbname", c.database());
        p.setProperty("topic.prefix", topicPrefix);
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", c.slot());
        p.setProperty("publication.name", c.publication());
        p.setProperty("publication.autocreate.mode", "disabled"); // MasterSetup made it, before the slot
        // replicas are seeded by Understudy, not by Debezium's snapshot
        p.setProperty("snapshot.mode", "no_data");
        // BEGIN and END records bracket each transaction, so it is applied whole as soon as it ends
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("skipped.operations", "none"); // TRUNCATE included
        p.setProperty("table.exclude.list", "_understudy\\..*"); // Understudy's own schema
        // values in forms PgText turns back into PostgreSQL's text input exactly
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("unavailable.value.placeholder", ChangeStream.UNAVAILABLE);
        p.setProperty("max.batch.size", "2048");
        p.setProperty("poll.interval.ms", "5");
        p.setProperty("errors.max.retries", "0");
        return p;
    }
}
