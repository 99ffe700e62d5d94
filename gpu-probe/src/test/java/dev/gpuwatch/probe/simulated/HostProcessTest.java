package dev.gpuwatch.probe.simulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostProcessTest {
    private static final double[] INSTANTS = {0, 1, 29.5, 30, 31, 47.25, 75, 150, 60, 300, 3600};

    @TempDir
    Path proc;

    @Test
    void parsesPidAndOptionalGpu() {
        assertEquals(Optional.of(new HostProcess(4242, 0)), HostProcess.parse("4242"));
        assertEquals(Optional.of(new HostProcess(4242, 3)), HostProcess.parse("4242@3"));
        assertEquals(Optional.of(new HostProcess(1, 63)), HostProcess.parse(" 1@63 "));
        assertEquals("4242@3", new HostProcess(4242, 3).toString());
        for (String bad : List.of("", "abc", "-1", "0", "+5", "12@", "@1", "1@-1", "1@x", "1@2@3", "0x10",
                "99999999999", "2147483648", "1 @2")) {
            assertEquals(Optional.empty(), HostProcess.parse(bad), bad);
        }
    }

    @Test
    void optionsRejectAGpuOutsideTheFleetOrNamedTwice() {
        SimulationOptions two = SimulationOptions.defaults().withDevices(2);
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> two.withHostProcesses(List.of(new HostProcess(10, 2))));
        assertEquals("host process 10@2: GPU 2 is not in the simulated fleet of 2 GPU(s)", outside.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> two.withHostProcesses(List.of(new HostProcess(10, 1), new HostProcess(11, 1))));
        assertEquals("host process 11@1: GPU 1 is given twice (at most one process per GPU)",
                twice.getMessage());
        // one process on several GPUs (tensor parallel) is fine
        assertEquals(2, two.withHostProcesses(List.of(new HostProcess(10, 0), new HostProcess(10, 1)))
                .hostProcesses().size());
        assertEquals(List.of(), SimulationOptions.defaults().hostProcesses());
    }

    /**
     * In every scenario and at every instant: GPU 0 is exactly what it is without the option except that its first
     * process has the host pid and /proc's command, with the simulated memory; every other GPU is unchanged.
     */
    @Test
    void theHostPidTakesThePlaceOfTheFirstProcessAndNothingElseMoves() throws IOException {
        writeComm(4242, "model-server\n");
        for (Scenario scenario : Scenario.values()) {
            ManualClock plainClock = new ManualClock();
            ManualClock shownClock = new ManualClock();
            SimulationOptions options = SimulationOptions.defaults().withScenario(scenario);
            SimulatedFleet plain = Fleets.open(plainClock, options);
            shownClock.at(0);
            SimulatedFleet shown = SimulatedFleet.open(options.withClock(shownClock)
                    .withHostProcesses(List.of(new HostProcess(4242, 0))), proc);
            for (double t : INSTANTS) {
                List<GpuSnapshot> expected = Fleets.sampleAt(plain, plainClock, t);
                List<GpuSnapshot> actual = Fleets.sampleAt(shown, shownClock, t);
                String where = scenario.label() + " at " + t;
                assertEquals(expected.subList(1, expected.size()), actual.subList(1, actual.size()), where);
                assertEquals(replaceFirst(expected.getFirst(), 4242, "model-server"), actual.getFirst(), where);
            }
        }
    }

    @Test
    void theFaultyGpusHostProcessIsTheOneThatLeaks() throws IOException {
        writeComm(777, "vllm-api");
        ManualClock clock = new ManualClock();
        clock.at(0);
        SimulatedFleet fleet = SimulatedFleet.open(SimulationOptions.defaults().withDevices(2)
                .withScenario(Scenario.MEMORY_LEAK).withClock(clock)
                .withHostProcesses(List.of(new HostProcess(777, 1))), proc);
        GpuProcess before = Fleets.faultyAt(fleet, clock, 10).processes().orElseThrow().getFirst();
        GpuSnapshot full = Fleets.faultyAt(fleet, clock, 200);
        GpuProcess after = full.processes().orElseThrow().getFirst();
        assertEquals(777, after.pid());
        assertEquals(Optional.of("vllm-api"), after.command());
        assertTrue(after.usedMemoryBytes().getAsLong() > before.usedMemoryBytes().getAsLong());
        assertEquals(full.memoryUsedBytes(), after.usedMemoryBytes());
    }

    @Test
    void withoutAReadableCommandTheSimulatedOneStays() {
        ManualClock plainClock = new ManualClock();
        ManualClock shownClock = new ManualClock();
        GpuSnapshot plain = Fleets.sampleAt(Fleets.open(plainClock, Scenario.STEADY), plainClock, 5).getFirst();
        shownClock.at(0);
        SimulatedFleet fleet = SimulatedFleet.open(SimulationOptions.defaults().withClock(shownClock)
                .withHostProcesses(List.of(new HostProcess(31337, 0))), proc); // no 31337/comm under proc
        GpuSnapshot shown = Fleets.sampleAt(fleet, shownClock, 5).getFirst();
        GpuProcess simulated = plain.processes().orElseThrow().getFirst();
        assertEquals(replaceFirst(plain, 31337, simulated.command().orElseThrow()), shown);
        assertNotEquals(31337, simulated.pid());
    }

    /** Through the real /proc: this JVM shown on GPU 0 carries its own command name. */
    @Test
    void readsTheCommandOfARealProcess() throws IOException {
        int self = (int) ProcessHandle.current().pid();
        String comm = Files.readString(Path.of("/proc", Integer.toString(self), "comm")).strip();
        SimulatedFleet fleet = SimulatedFleet.open(SimulationOptions.defaults().withDevices(1)
                .withHostProcesses(List.of(new HostProcess(self, 0))));
        GpuProcess first = fleet.sample().getFirst().processes().orElseThrow().getFirst();
        assertEquals(self, first.pid());
        assertEquals(Optional.of(comm), first.command());
        assertEquals("simulated fleet: 1x NVIDIA H100 80GB HBM3, scenario steady, seed 42, host processes pid "
                + self + " on GPU 0", fleet.description());
    }

    /** The snapshot with its first process given {@code pid} and {@code command}, memory and the rest as they were. */
    private static GpuSnapshot replaceFirst(GpuSnapshot snapshot, int pid, String command) {
        Optional<List<GpuProcess>> processes = snapshot.processes();
        if (processes.isEmpty() || processes.get().isEmpty()) {
            return snapshot; // idle or lost: nothing to show
        }
        List<GpuProcess> list = new ArrayList<>(processes.get());
        GpuProcess first = list.getFirst();
        OptionalLong memory = first.usedMemoryBytes();
        list.set(0, new GpuProcess(pid, Optional.of(command), memory, first.gpuInstanceId(), first.computeInstanceId(),
                first.smUtilization(), first.memoryUtilization(), first.mps()));
        return snapshot.toBuilder().processes(list).build();
    }

    private void writeComm(int pid, String comm) throws IOException {
        Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(proc.resolve(Integer.toString(pid)).resolve("comm"), comm);
    }
}
