package dev.understudy.proxy;

import dev.understudy.proxy.auth.ScramClient;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.StartupCodec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;

/** A PostgreSQL client on a raw socket, for sending what no driver would send. */
public final class RawPgClient implements AutoCloseable {

    /** One message from the server. */
    public record Message(char type, byte[] body) {
        /** A field of an ErrorResponse/NoticeResponse ('C' = SQLSTATE, 'M' = message), or null. */
        public String field(char code) {
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char c = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                if (c == code) {
                    return new String(body, i, end - i, StandardCharsets.UTF_8);
                }
                i = end + 1;
            }
            return null;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    public RawPgClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) Await.scaled(java.time.Duration.ofSeconds(20)).toMillis());
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Logs in with SCRAM-SHA-256 and reads up to the first ReadyForQuery. */
    public RawPgClient login(String user, String password, String database) throws Exception {
        send(StartupCodec.startup(Map.of("user", user, "database", database)));
        ScramClient scram = new ScramClient(password, new SecureRandom());
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'R' -> {
                    int code = ByteBuffer.wrap(m.body()).getInt();
                    if (code == 10) {
                        send(FrontendCodec.saslInitialResponse("SCRAM-SHA-256", scram.clientFirstMessage()));
                    } else if (code == 11) {
                        send(FrontendCodec.saslResponse(scram.handleServerFirst(Arrays.copyOfRange(m.body(), 4, m.body().length))));
                    } else if (code == 12) {
                        scram.verifyServerFinal(Arrays.copyOfRange(m.body(), 4, m.body().length));
                    } else if (code != 0) {
                        throw new IllegalStateException("unexpected authentication request " + code);
                    }
                }
                case 'E' -> throw new IllegalStateException("login failed: " + m.field('M'));
                case 'Z' -> {
                    return this;
                }
                default -> { }
            }
        }
    }

    /** A frame: type, length, body. */
    public static byte[] frame(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Half-closes: the server sees end of stream. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    public Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /** Reads until an ErrorResponse and returns it; fails if the connection ends first. */
    public Message readError() throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == 'E') {
                return m;
            }
        }
    }

    /** Whether the server closed the connection (reads end of stream before the timeout). */
    public boolean closedByServer() throws IOException {
        try {
            while (true) {
                read();
            }
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
