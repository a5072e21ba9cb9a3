package dev.understudy.proxy.backend;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.ProxyException.Kind;
import dev.understudy.proxy.auth.AuthException;
import dev.understudy.proxy.auth.Md5Auth;
import dev.understudy.proxy.auth.ScramClient;
import dev.understudy.proxy.net.Conduit;
import dev.understudy.proxy.net.SerialWriter;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationCleartextPassword;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationMd5Password;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationOk;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSasl;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslContinue;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslFinal;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationUnsupported;
import dev.understudy.proxy.pg.BackendMessage.BackendKeyData;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.BackendMessage.NegotiateProtocolVersion;
import dev.understudy.proxy.pg.BackendMessage.NoticeResponse;
import dev.understudy.proxy.pg.BackendMessage.ParameterStatus;
import dev.understudy.proxy.pg.BackendMessage.ReadyForQuery;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.StartupCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.postgresql.PGProperty;

/**
 * One connection from the proxy to a database node, logged in with the proxy's own credentials.
 * After {@link #open} it is a plain byte pipe: the session writes client messages to it and a
 * {@link BackendRelay} copies its answers to the client.
 */
public final class BackendConnection implements AutoCloseable {

    /** Backend frames are trusted to the server's own limit (1 GB). */
    static final int MAX_BACKEND_FRAME = 1 << 30;
    /** What an idle backend connection keeps for reading, and what a large result may grow it to. */
    static final int BUFFER = 8 * 1024;
    static final int BULK_BUFFER = 128 * 1024;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String nodeName;
    private final InetSocketAddress address;
    private final Conduit conduit;
    private final SerialWriter writer;
    private final List<ParameterStatus> parameters;
    private final BackendKeyData key;
    private final FrameReader reader;

    private BackendConnection(String nodeName, InetSocketAddress address, Conduit conduit,
                              FrameReader reader, List<ParameterStatus> parameters, BackendKeyData key) {
        this.nodeName = nodeName;
        this.address = address;
        this.conduit = conduit;
        this.writer = new SerialWriter(conduit);
        this.reader = reader;
        this.parameters = parameters;
        this.key = key;
    }

    /** Where to log in, and as whom. */
    public record Target(String nodeName, String host, int port, String user, String password, Duration connectTimeout) {

        /**
         * A pgjdbc connection to {@code database} on this node as the proxy's own role, for its own
         * queries (the function catalog, health checks): connect and socket timeouts of
         * {@code timeout} (pgjdbc counts whole seconds: rounded up), no TLS as on the proxy's own
         * backend connections, TCP keepalive.
         */
        public Connection openJdbc(String database, String applicationName, Duration timeout)
                throws SQLException {
            int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
            Properties props = new Properties();
            PGProperty.USER.set(props, user);
            PGProperty.PASSWORD.set(props, password);
            PGProperty.APPLICATION_NAME.set(props, applicationName);
            PGProperty.CONNECT_TIMEOUT.set(props, seconds);
            // no loginTimeout: pgjdbc would open a thread per attempt; the socket timeout bounds the login
            PGProperty.SOCKET_TIMEOUT.set(props, seconds);
            PGProperty.SSL_MODE.set(props, "disable");
            PGProperty.TCP_KEEP_ALIVE.set(props, true);
            String hostInUrl = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return DriverManager.getConnection("jdbc:postgresql://" + hostInUrl + ":" + port + "/"
                    + URLEncoder.encode(database, StandardCharsets.UTF_8), props);
        }

        @Override
        public String toString() {
            return "Target[" + nodeName + " " + host + ":" + port + " as " + user + "]";
        }
    }

    /**
     * Connects and logs in, sending {@code parameters} (database, GUCs) in the StartupMessage.
     *
     * @throws BackendRefusedException when the database answered the login with an ErrorResponse,
     *     which the caller relays to its client as the database sent it
     * @throws ProxyException BACKEND_UNAVAILABLE when the node cannot be reached or logged in to
     */
    public static BackendConnection open(Target target, Map<String, String> parameters)
            throws ProxyException, BackendRefusedException {
        InetSocketAddress address = new InetSocketAddress(target.host(), target.port());
        Conduit socket = null;
        try {
            socket = Conduit.connect(address, target.connectTimeout());
            socket.readTimeout(target.connectTimeout());
            InputStream in = socket.input();
            OutputStream out = socket.output();
            Map<String, String> startup = new java.util.LinkedHashMap<>();
            startup.put("user", target.user());
            startup.putAll(parameters);
            out.write(StartupCodec.startup(startup));
            FrameReader reader = new FrameReader(in, BUFFER, BULK_BUFFER, MAX_BACKEND_FRAME);
            Login login = new Login(target, out);
            while (!login.ready) {
                int type = reader.next();
                if (type < 0) {
                    throw new IOException("connection closed during login");
                }
                login.handle(BackendCodec.decode((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength()));
            }
            if (login.key == null) {
                throw new ProxyException(Kind.BACKEND_UNAVAILABLE, "database node " + target.nodeName()
                        + " sent no BackendKeyData");
            }
            socket.readTimeout(Duration.ZERO);
            return new BackendConnection(target.nodeName(), address, socket, reader,
                    List.copyOf(login.parameters), login.key);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new ProxyException(Kind.BACKEND_UNAVAILABLE,
                    "could not connect to database node " + target.nodeName() + ": " + e.getMessage(), e);
        } catch (ProxyException | BackendRefusedException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /** The login conversation: what the database asks, what the proxy answers. */
    private static final class Login {
        private final Target target;
        private final OutputStream out;
        private final List<ParameterStatus> parameters = new ArrayList<>();
        private ScramClient scram;
        private boolean scramVerified;
        private BackendKeyData key;
        private boolean ready;

        Login(Target target, OutputStream out) {
            this.target = target;
            this.out = out;
        }

        void handle(BackendMessage message) throws IOException, ProxyException, BackendRefusedException {
            try {
                switch (message) {
                    case AuthenticationOk m -> {
                        if (scram != null && !scramVerified) {
                            throw refused("ended SCRAM without proving it knows the password");
                        }
                    }
                    case AuthenticationCleartextPassword m ->
                            out.write(FrontendCodec.passwordMessage(target.password().getBytes(StandardCharsets.UTF_8)));
                    case AuthenticationMd5Password m ->
                            out.write(FrontendCodec.passwordMessage(Md5Auth.clientResponse(target.user(), target.password(), m.salt())));
                    case AuthenticationSasl m -> {
                        if (!m.mechanisms().contains("SCRAM-SHA-256")) {
                            throw refused("offers no SASL mechanism the proxy supports: " + m.mechanisms());
                        }
                        scram = new ScramClient(target.password(), RANDOM);
                        out.write(FrontendCodec.saslInitialResponse("SCRAM-SHA-256", scram.clientFirstMessage()));
                    }
                    case AuthenticationSaslContinue m -> {
                        requireScram();
                        out.write(FrontendCodec.saslResponse(scram.handleServerFirst(m.data())));
                    }
                    case AuthenticationSaslFinal m -> {
                        requireScram();
                        scram.verifyServerFinal(m.data());
                        scramVerified = true;
                    }
                    case AuthenticationUnsupported m -> throw refused("asks for an unsupported authentication method (code " + m.code() + ")");
                    case ParameterStatus m -> parameters.add(m);
                    case BackendKeyData m -> key = m;
                    case ReadyForQuery m -> ready = true;
                    case ErrorResponse m -> throw new BackendRefusedException(target.nodeName(), m);
                    case NoticeResponse m -> { }
                    case NegotiateProtocolVersion m -> { }
                    default -> throw refused("sent " + message.getClass().getSimpleName() + " during the login");
                }
            } catch (AuthException e) {
                throw refused("failed SCRAM authentication: " + e.getMessage());
            }
        }

        private void requireScram() throws ProxyException {
            if (scram == null) {
                throw refused("sent a SASL message out of order");
            }
        }

        private ProxyException refused(String what) {
            return new ProxyException(Kind.BACKEND_UNAVAILABLE, "database node " + target.nodeName() + " " + what);
        }
    }

    public String nodeName() {
        return nodeName;
    }

    /** The ParameterStatus messages the database sent at login, in order. */
    public List<ParameterStatus> parameters() {
        return parameters;
    }

    /** The reader positioned after the login's ReadyForQuery, for the relay to continue with. */
    FrameReader reader() {
        return reader;
    }

    /** Writes client bytes to the database. */
    public void write(byte[] buf, int off, int len) throws IOException {
        writer.write(buf, off, len);
    }

    /** Where the database's frames are written: for a {@link dev.understudy.proxy.net.Splice}. */
    public SerialWriter writer() {
        return writer;
    }

    /** Whether the reader holds bytes not returned yet (a splice must not start then). */
    public boolean readAhead() {
        return reader.hasBufferedBytes();
    }

    public void write(byte[] message) throws IOException {
        write(message, 0, message.length);
    }

    /** Asks the database, over a new connection, to cancel what this connection is running. */
    public void cancel(Duration timeout) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, (int) timeout.toMillis());
            s.getOutputStream().write(StartupCodec.cancelRequest(key.processId(), key.secretKey()));
            s.setSoTimeout((int) timeout.toMillis());
            s.getInputStream().read(); // the server closes without answering
        }
    }

    /**
     * Whether nothing arrived on this idle connection and the database has not closed it, as far
     * as the proxy can tell without a round trip; false when its socket cannot tell (not on an
     * event loop).
     */
    boolean quietAndOpen() {
        return !reader.hasBufferedBytes() && conduit.quietAndOpen();
    }

    /** The event loop of the calling thread (what a pooled connection must match), or null. */
    static Object currentLoop() {
        return Conduit.currentLoop();
    }

    /** The event loop serving this connection's socket, or null. */
    Object loop() {
        return conduit.loop();
    }

    /**
     * This idle connection served by the calling thread's event loop: itself when it is already
     * (or there are no loops), else a new one over the same socket, this one not used afterwards.
     */
    BackendConnection toCurrentLoop() throws IOException {
        Conduit moved = conduit.toCurrentLoop();
        if (moved == conduit) {
            return this;
        }
        FrameReader fresh = new FrameReader(moved.input(), BUFFER, BULK_BUFFER, MAX_BACKEND_FRAME);
        return new BackendConnection(nodeName, address, moved, fresh, parameters, key);
    }

    /** Sends Terminate (best effort) and closes. */
    public void terminate() {
        try {
            write(FrontendCodec.terminate());
        } catch (IOException ignored) {
            // closed already, or closing anyway
        }
        close();
    }

    @Override
    public void close() {
        conduit.close();
    }

    private static void closeQuietly(Conduit socket) {
        if (socket != null) {
            socket.close();
        }
    }
}
