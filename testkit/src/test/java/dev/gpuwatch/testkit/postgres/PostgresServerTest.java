package dev.gpuwatch.testkit.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The launcher against the installed PostgreSQL (scripts/test installs Debian's postgresql). */
class PostgresServerTest {

    @Test
    void startsStopsAndStartsAgainOnTheSameDataAndPort() throws Exception {
        Path data;
        try (PostgresServer pg = PostgresServer.start("s3cret")) {
            data = pg.log().getParent();
            pg.psql("CREATE TABLE kept(v int); INSERT INTO kept VALUES (42)");
            assertTrue(pg.jdbcUrl().startsWith("jdbc:postgresql://127.0.0.1:" + pg.port() + "/gpuwatch"));
            pg.stop();
            assertFalse(pg.running());
            assertThrows(java.io.IOException.class, () -> connect(pg.port()));
            pg.start();
            assertTrue(pg.running());
            connect(pg.port());
            assertEquals("42", pg.psql("SELECT v FROM kept").strip());
            assertEquals("gpuwatch", pg.psql("SELECT pg_get_userbyid(datdba) FROM pg_database"
                    + " WHERE datname = 'gpuwatch'").strip());
        }
        assertFalse(Files.exists(data), "the data directory is deleted");
    }

    private static void connect(int port) throws java.io.IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        }
    }
}
