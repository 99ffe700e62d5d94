package dev.gpuwatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReaderTest {

    enum Color { RED, DARK_BLUE }

    record Root(Server server, List<Item> items, Map<String, String> labels, Optional<Path> dataDir, Color color) {
        Root {
            server = Objects.requireNonNullElseGet(server, () -> new Server(null, null, null));
            items = items == null ? List.of() : List.copyOf(items);
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            color = Objects.requireNonNullElse(color, Color.RED);
        }
    }

    record Server(ListenAddress listenAddress, Duration timeout, ByteSize maxBodyBytes) {
        Server {
            listenAddress = Objects.requireNonNullElseGet(listenAddress, () -> ListenAddress.parse(":9445").orElseThrow());
            timeout = Objects.requireNonNullElse(timeout, Duration.ofSeconds(5));
            maxBodyBytes = Objects.requireNonNullElse(maxBodyBytes, ByteSize.ofMebibytes(8));
            if (timeout.isZero()) {
                throw InvalidValue.at("timeout", "must be longer than 0s");
            }
        }
    }

    record Item(String name, Integer weight) {
        Item {
            if (name == null) {
                throw InvalidValue.at("name", "required");
            }
            weight = Objects.requireNonNullElse(weight, 1);
        }
    }

    private static final ConfigReader READER = ConfigReader.create(Scalar.labelled(Color.class,
            c -> c.name().toLowerCase().replace('_', '-')));

    private static ConfigException error(String yaml) {
        return assertThrows(ConfigException.class, () -> READER.parse("app.yml", yaml, Root.class));
    }

    @Test
    void emptyFileIsEveryDefault() throws Exception {
        Root root = READER.parse("app.yml", "", Root.class).value();
        assertEquals(":9445", root.server().listenAddress().toString());
        assertEquals(Duration.ofSeconds(5), root.server().timeout());
        assertEquals(Optional.empty(), root.dataDir());
        assertEquals(Color.RED, root.color());
        assertEquals(List.of(), root.items());
    }

    @Test
    void bindsEveryType() throws Exception {
        Root root = READER.parse("app.yml", """
                server:
                  listen_address: 127.0.0.1:9000
                  timeout: 1d
                  max_body_bytes: 512KB
                items:
                  - name: a
                  - name: b
                    weight: 3
                labels: {team: ml}
                color: dark-blue
                """, Root.class).value();
        assertEquals(Duration.ofDays(1), root.server().timeout());
        assertEquals(512 * 1024, root.server().maxBodyBytes().bytes());
        assertEquals(List.of(new Item("a", 1), new Item("b", 3)), root.items());
        assertEquals(Map.of("team", "ml"), root.labels());
        assertEquals(Color.DARK_BLUE, root.color());
    }

    @Test
    void badDurationNamesFileLineAndKey() {
        assertEquals("app.yml:3: server.timeout: expected a duration like 30s, 1m30s, 500ms or 1d, got \"30s5m\"",
                error("server:\n  listen_address: :1\n  timeout: 30s5m\n").getMessage());
        assertEquals("app.yml:2: server.timeout: expected a duration like 30s, 1m30s, 500ms or 1d, got \"1s1s\"",
                error("server:\n  timeout: 1s1s\n").getMessage());
        assertEquals("app.yml:2: server.timeout: expected a duration like 30s, 1m30s, 500ms or 1d, got \"30\"",
                error("server:\n  timeout: 30\n").getMessage());
    }

    @Test
    void unknownKeyListsTheKnownOnes() {
        ConfigException e = error("server:\n  timeout: 5s\n  listen: :1\n");
        assertEquals("app.yml:3: server.listen: unknown key (known keys: listen_address, max_body_bytes, timeout)",
                e.getMessage());
        assertEquals("server.listen", e.key());
        assertEquals(3, e.line());
    }

    @Test
    void aMisspelledKeyIsReportedRatherThanTheValueItLeavesOut() {
        assertEquals("app.yml:3: items[1].nme: unknown key (known keys: name, weight)",
                error("items:\n  - name: a\n  - nme: b\n").getMessage());
        assertEquals("app.yml:2: server.timeut: unknown key (known keys: listen_address, max_body_bytes, timeout)",
                error("server:\n  timeut: 5s\n  timeout: 0s\n").getMessage());
    }

    @Test
    void aRecordRefusingAValueIsReportedAtThatKey() {
        assertEquals("app.yml:4: server.timeout: must be longer than 0s",
                error("server:\n  listen_address: :1\n\n  timeout: 0s\nitems: []\n").getMessage());
        // the key is absent: the error points at the item that lacks it
        assertEquals("app.yml:3: items[1].name: required",
                error("items:\n  - name: a\n  - weight: 2\n").getMessage());
    }

    @Test
    void listItemsAreIndexed() {
        assertEquals("app.yml:3: items[1].weight: expected a whole number",
                error("items:\n  - name: a\n  - {name: b, weight: heavy}\n").getMessage());
    }

    @Test
    void wrongShapesSayWhatWasExpected() {
        assertEquals("app.yml:1: server: expected a mapping of keys", error("server: [1, 2]\n").getMessage());
        assertEquals("app.yml:1: color: expected one of red, dark-blue, got \"green\"",
                error("color: green\n").getMessage());
        assertEquals("app.yml:1: expected a mapping of keys", error("- a\n- b\n").getMessage());
    }

    @Test
    void duplicateKeysAndSecondDocumentsAreRefused() {
        assertEquals("app.yml:3: duplicate key \"timeout\"",
                error("server:\n  timeout: 5s\n  timeout: 6s\n").getMessage());
        assertEquals("app.yml:3: more than one YAML document", error("color: red\n---\ncolor: red\n").getMessage());
    }

    @Test
    void invalidYamlHasItsLine() {
        ConfigException e = error("server:\n  timeout: [5s\n");
        assertEquals("app.yml", e.source());
        assertEquals("", e.key());
        assertEquals(true, e.problem().startsWith("invalid YAML: "), e.getMessage());
    }

    @Test
    void flagsOverrideTheFileAndAreCheckedTheSameWay(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.yml");
        Files.writeString(file, "server:\n  timeout: 5s\n");
        Overrides flags = Overrides.none().put("server.timeout", "--server.timeout", "1m");
        assertEquals(Duration.ofMinutes(1),
                READER.read(Optional.of(file), Root.class, flags).value().server().timeout());

        Overrides bad = Overrides.none().put("server.timeout", "--server.timeout", "1s1s");
        ConfigException e = assertThrows(ConfigException.class, () -> READER.read(Optional.of(file), Root.class, bad));
        assertEquals("--server.timeout: expected a duration like 30s, 1m30s, 500ms or 1d, got \"1s1s\"", e.getMessage());

        Overrides zero = Overrides.none().put("server.timeout", "--server.timeout", "0s");
        e = assertThrows(ConfigException.class, () -> READER.read(Optional.empty(), Root.class, zero));
        assertEquals("--server.timeout: must be longer than 0s", e.getMessage());
    }

    record Flagged(Integer count, Boolean on, Long seed, String name, List<Duration> every) {}

    @Test
    void aFlagIsReadAsTheSamePlainScalarInTheFileWouldBe() throws Exception {
        Overrides flags = Overrides.none().put("count", "--count", "3").put("on", "--on", "true")
                .put("seed", "--seed", "-9").put("name", "--name", "007")
                .putList("every", "--every", List.of("1s", "1d"));
        assertEquals(new Flagged(3, true, -9L, "007", List.of(Duration.ofSeconds(1), Duration.ofDays(1))),
                READER.read(Optional.empty(), Flagged.class, flags).value());
        assertEquals(new Flagged(null, null, null, "12", null), READER.read(Optional.empty(), Flagged.class,
                Overrides.none().put("name", "--name", "12")).value(), "a number is a string where one is expected");

        ConfigException e = assertThrows(ConfigException.class, () -> READER.read(Optional.empty(), Flagged.class,
                Overrides.none().put("count", "--count", "three")));
        assertEquals("--count: expected a whole number", e.getMessage());
        e = assertThrows(ConfigException.class, () -> READER.read(Optional.empty(), Flagged.class,
                Overrides.none().putList("every", "--every", List.of("1s", "1s1s"))));
        assertEquals("--every: expected a duration like 30s, 1m30s, 500ms or 1d, got \"1s1s\"", e.getMessage());
    }

    @Test
    void relativePathsInAFileAreRelativeToIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.yml");
        Files.writeString(file, "data_dir: data\n");
        assertEquals(Optional.of(dir.toAbsolutePath().resolve("data")),
                READER.read(file, Root.class).value().dataDir());
        Overrides flag = Overrides.none().put("data_dir", "--data-dir", "rel");
        assertEquals(Optional.of(Path.of("rel")), READER.read(Optional.of(file), Root.class, flag).value().dataDir());
    }

    @Test
    void missingFileIsOneLine(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> READER.read(dir.resolve("nope.yml"), Root.class));
        assertEquals(dir.resolve("nope.yml") + ": no such file", e.getMessage());
        assertEquals(2, ConfigException.EXIT_CODE);
    }

    @Test
    void laterChecksUseTheSameFormat() throws Exception {
        ConfigReader.Bound<Root> bound = READER.parse("app.yml", "items:\n  - name: a\n  - name: b\n", Root.class);
        assertEquals("app.yml:3: items[1].name: duplicate item b",
                bound.source().error("items[1].name", "duplicate item b").getMessage());
        assertEquals("app.yml:1: items[7]: out of range", bound.source().error("items[7]", "out of range").getMessage());
    }
}
