package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.admin.AdminException;
import dev.understudy.proxy.admin.AdminParser;
import dev.understudy.proxy.admin.AdminResult;
import dev.understudy.proxy.admin.AdminService;
import dev.understudy.proxy.admin.AdminStatement;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage;
import dev.understudy.proxy.pg.BackendMessage.BindComplete;
import dev.understudy.proxy.pg.BackendMessage.CloseComplete;
import dev.understudy.proxy.pg.BackendMessage.CommandComplete;
import dev.understudy.proxy.pg.BackendMessage.DataRow;
import dev.understudy.proxy.pg.BackendMessage.EmptyQueryResponse;
import dev.understudy.proxy.pg.BackendMessage.NoData;
import dev.understudy.proxy.pg.BackendMessage.NoParameters;
import dev.understudy.proxy.pg.BackendMessage.ParseComplete;
import dev.understudy.proxy.pg.BackendMessage.ReadyForQuery;
import dev.understudy.proxy.pg.BackendMessage.RowDescription;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.FrontendMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin console: a session whose database is {@code listen.admin_database}. The proxy answers
 * every statement itself ({@link AdminService}); nothing reaches a database. It speaks the simple
 * and the extended query protocol, so psql and pgjdbc (prepared or not) both work; results are
 * text columns. Errors are the protocol's own, with a SQLSTATE; after one, the extended protocol
 * skips to the next Sync, as PostgreSQL does.
 */
final class AdminConsole {

    private static final Logger log = LoggerFactory.getLogger(AdminConsole.class);

    private final ClientChannel client;
    private final AdminService admin;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    /** Statements parsed by name, and portals bound by name (unnamed: ""). */
    private final Map<String, AdminStatement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    /** An error in the extended protocol: messages are skipped until Sync. */
    private boolean failed;

    /** A bound statement; its result, once described or run, kept for the Execute that follows. */
    private static final class Portal {
        final AdminStatement statement;
        AdminResult result;

        Portal(AdminStatement statement) {
            this.statement = statement;
        }
    }

    AdminConsole(ClientChannel client, AdminService admin) {
        this.client = client;
        this.admin = admin;
    }

    /** Serves the console until the client leaves. */
    void run(FrameReader reader) throws IOException, ProxyException {
        while (true) {
            int type = reader.next();
            if (type < 0) {
                return;
            }
            FrontendMessage message = FrontendCodec.decode((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength());
            if (message instanceof FrontendMessage.Terminate) {
                return;
            }
            if (failed && !(message instanceof FrontendMessage.Sync) && !(message instanceof FrontendMessage.Query)) {
                continue;
            }
            try {
                handle(message);
            } catch (AdminException e) {
                log.info("admin statement refused: {} ({})", e.getMessage(), e.sqlState());
                add(BackendCodec.error("ERROR", e.sqlState(), e.getMessage(), null, e.hint()));
                if (message instanceof FrontendMessage.Query) {
                    add(new ReadyForQuery('I'));
                } else {
                    failed = true;
                }
            }
            if (!reader.hasBufferedFrame() || message instanceof FrontendMessage.Sync || message instanceof FrontendMessage.Flush) {
                flush();
            }
        }
    }

    private void handle(FrontendMessage message) throws AdminException, ProxyException {
        switch (message) {
            case FrontendMessage.Query q -> {
                List<String> parts = AdminParser.split(q.sql());
                if (parts.isEmpty()) {
                    add(new EmptyQueryResponse());
                }
                for (String sql : parts) {
                    AdminStatement s = AdminParser.parse(sql);
                    AdminResult r = execute(s);
                    if (!s.columns().isEmpty()) {
                        add(new RowDescription(s.columns()));
                    }
                    rows(r);
                }
                add(new ReadyForQuery('I'));
            }
            case FrontendMessage.Parse p -> {
                statements.put(p.statement(), AdminParser.split(p.sql()).isEmpty() ? null : AdminParser.parse(p.sql()));
                add(new ParseComplete());
            }
            case FrontendMessage.Bind b -> {
                if (!statements.containsKey(b.statement())) {
                    throw new AdminException("26000", "prepared statement \"" + b.statement() + "\" does not exist", null);
                }
                AdminStatement s = statements.get(b.statement());
                portals.put(b.portal(), s == null ? null : new Portal(s));
                add(new BindComplete());
            }
            case FrontendMessage.Describe d -> {
                AdminStatement s;
                if (d.kind() == 'S') {
                    if (!statements.containsKey(d.name())) {
                        throw new AdminException("26000", "prepared statement \"" + d.name() + "\" does not exist", null);
                    }
                    s = statements.get(d.name());
                    add(new NoParameters());
                } else {
                    Portal portal = portal(d.name());
                    s = portal == null ? null : portal.statement;
                }
                add(s == null || s.columns().isEmpty() ? new NoData() : new RowDescription(s.columns()));
            }
            case FrontendMessage.Execute e -> {
                Portal portal = portal(e.portal());
                if (portal == null) {
                    add(new EmptyQueryResponse());
                } else {
                    if (portal.result == null) {
                        portal.result = execute(portal.statement);
                    }
                    rows(portal.result);
                }
            }
            case FrontendMessage.Close c -> {
                (c.kind() == 'S' ? statements : portals).remove(c.name());
                add(new CloseComplete());
            }
            case FrontendMessage.Sync s -> {
                failed = false;
                portals.remove("");
                add(new ReadyForQuery('I'));
            }
            case FrontendMessage.Flush f -> { }
            case FrontendMessage.AuthResponse r ->
                    throw ProxyException.protocolViolation("unexpected password message outside authentication");
            default -> throw new AdminException(AdminException.FEATURE_NOT_SUPPORTED,
                    "the admin console takes statements only (no COPY, no function calls)", null);
        }
    }

    private Portal portal(String name) throws AdminException {
        if (!portals.containsKey(name)) {
            throw new AdminException("34000", "portal \"" + name + "\" does not exist", null);
        }
        return portals.get(name);
    }

    private AdminResult execute(AdminStatement s) throws AdminException {
        log.info("admin: {}", s);
        return admin.execute(s);
    }

    private void rows(AdminResult r) {
        for (List<String> row : r.rows()) {
            add(new DataRow(row));
        }
        add(new CommandComplete(r.tag()));
    }

    private void add(BackendMessage message) {
        out.writeBytes(BackendCodec.encode(message));
    }

    private void flush() throws IOException {
        if (out.size() > 0) {
            client.send(out.toByteArray());
            out.reset();
        }
    }
}
