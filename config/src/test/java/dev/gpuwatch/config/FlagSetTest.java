package dev.gpuwatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FlagSetTest {

    private static final FlagSet FLAGS = new FlagSet("app", "An app.", List.of(
            FlagSet.Flag.plain("--config.file", "FILE", "The config file."),
            FlagSet.Flag.forKey("--web.listen-address", "web.listen_address", "[HOST]:PORT", "Where to listen."),
            FlagSet.Flag.switchForKey("--gpu.nvml.watch-xid", "gpu.nvml.watch_xid", "Watch Xid events."),
            FlagSet.Flag.repeated("--pid", "PID", "A pid."),
            FlagSet.Flag.listForKey("--host-pid", "sim.host_pids", "PID", "A host pid.")));

    @Test
    void keyFlagsBecomeOverridesAndPlainOnesAreHandedBack() throws Exception {
        FlagSet.Parsed p = FLAGS.parse("--config.file=a.yml", "--web.listen-address", ":1", "--gpu.nvml.watch-xid",
                "--pid", "1", "--pid=2");
        assertEquals(Optional.of("a.yml"), p.value("--config.file"));
        assertEquals(List.of("1", "2"), p.values("--pid"));
        assertEquals(":1", p.overrides().byKey().get("web.listen_address").text());
        assertEquals("true", p.overrides().byKey().get("gpu.nvml.watch_xid").text());
        assertEquals("false", FLAGS.parse("--gpu.nvml.watch-xid=false").overrides().byKey()
                .get("gpu.nvml.watch_xid").text());
    }

    @Test
    void aSwitchHasANegativeForm() throws Exception {
        assertEquals("false", FLAGS.parse("--no-gpu.nvml.watch-xid").overrides().byKey()
                .get("gpu.nvml.watch_xid").text());
        assertEquals("true", FLAGS.parse("--gpu.nvml.watch-xid=true").overrides().byKey()
                .get("gpu.nvml.watch_xid").text());
        assertEquals(false, FLAGS.parse().overrides().byKey().containsKey("gpu.nvml.watch_xid"));
    }

    @Test
    void aListFlagIsRepeatableOrCommaSeparatedAndSetsTheKeyToEveryValue() throws Exception {
        Overrides.Value v = FLAGS.parse("--host-pid=1", "--host-pid", "2,3").overrides().byKey().get("sim.host_pids");
        assertEquals(List.of("1", "2", "3"), v.texts());
        assertTrue(v.isList());
        assertEquals(List.of("1,2"), FLAGS.parse("--pid=1,2").values("--pid"), "a plain repeated flag is not split");
    }

    @Test
    void unknownFlagIsAConfigError() {
        ConfigException e = assertThrows(ConfigException.class, () -> FLAGS.parse("--web.listen", ":1"));
        assertEquals("--web.listen: unknown flag (see --help)", e.getMessage());
    }

    @Test
    void aMissingValueOrABadSwitchValueNamesTheFlag() {
        assertEquals("--web.listen-address: needs a value [HOST]:PORT",
                assertThrows(ConfigException.class, () -> FLAGS.parse("--web.listen-address")).getMessage());
        assertEquals("--gpu.nvml.watch-xid: expected true or false, got \"maybe\"",
                assertThrows(ConfigException.class, () -> FLAGS.parse("--gpu.nvml.watch-xid=maybe")).getMessage());
    }

    @Test
    void helpListsEveryFlag() throws Exception {
        assertTrue(FLAGS.parse("--help").help());
        String help = FLAGS.help();
        for (String name : FLAGS.names()) {
            String shown = name.equals("--gpu.nvml.watch-xid") ? "--[no-]gpu.nvml.watch-xid" : name;
            assertTrue(help.contains(shown), shown + " in\n" + help);
        }
    }
}
