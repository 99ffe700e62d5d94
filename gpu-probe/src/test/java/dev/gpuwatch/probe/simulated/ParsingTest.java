package dev.gpuwatch.probe.simulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;

class ParsingTest {

    @Test
    void scenarioLabelsRoundTrip() {
        for (Scenario scenario : Scenario.values()) {
            assertEquals(scenario, Scenario.parse(scenario.label()));
            assertEquals(scenario, Scenario.parse(scenario.name()));
        }
        assertEquals(Scenario.XID79_GPU_LOST, Scenario.parse(" Xid79-GPU-Lost "));
    }

    @Test
    void unknownScenarioNamesTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scenario.parse("meltdown"));
        assertTrue(e.getMessage().startsWith("unknown scenario 'meltdown'; valid scenarios: idle, idle-allocated,"),
                e.getMessage());
        for (Scenario scenario : Scenario.values()) {
            assertTrue(e.getMessage().contains(scenario.label()), scenario.label());
        }
    }

    @Test
    void modelsParseByLabelShortFormAndEnumName() {
        for (GpuModel model : GpuModel.values()) {
            assertEquals(model, GpuModel.parse(model.label()));
            assertEquals(model, GpuModel.parse(model.name()));
        }
        assertEquals(GpuModel.H100_80GB, GpuModel.parse("H100"));
        assertEquals(GpuModel.H100_80GB, GpuModel.parse("h100_80gb"));
        assertEquals(GpuModel.H200_141GB, GpuModel.parse("h200"));
        assertEquals(GpuModel.A100_80GB, GpuModel.parse("a100"));
        assertEquals(GpuModel.RTX_A6000, GpuModel.parse("RTX A6000"));
    }

    @Test
    void unknownModelNamesTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuModel.parse("v100"));
        assertEquals("unknown GPU model 'v100'; valid models: h100-80gb, h200-141gb, a100-80gb, l40s, l4, rtx-a6000",
                e.getMessage());
    }

    @Test
    void modelFiguresAreConsistent() {
        for (GpuModel model : GpuModel.values()) {
            assertTrue(model.memoryReservedBytes() < model.memoryTotalBytes() / 50, model.label());
            assertTrue(model.idlePowerWatts() < model.powerLimitWatts() / 4, model.label());
            assertTrue(model.idleSmClockMhz() < model.maxSmClockMhz(), model.label());
            assertTrue(model.idleMemoryClockMhz() <= model.maxMemoryClockMhz(), model.label());
        }
        assertEquals(85_520_809_984L, GpuModel.H100_80GB.memoryTotalBytes(), "nvidia-smi's 81559 MiB");
    }

    @Test
    void defaults() {
        SimulationOptions d = SimulationOptions.defaults();
        assertEquals(8, d.devices());
        assertEquals(GpuModel.H100_80GB, d.model());
        assertEquals(Scenario.STEADY, d.scenario());
        assertEquals(42, d.seed());
        assertEquals(Duration.ofSeconds(30), d.faultAfter());
        assertEquals(InstantSource.system(), d.clock());
    }

    @Test
    void optionsAreValidated() {
        SimulationOptions d = SimulationOptions.defaults();
        assertEquals("devices must be 1..64, was 0",
                assertThrows(IllegalArgumentException.class, () -> d.withDevices(0)).getMessage());
        assertEquals("devices must be 1..64, was 65",
                assertThrows(IllegalArgumentException.class, () -> d.withDevices(65)).getMessage());
        assertEquals(64, d.withDevices(64).devices());
        assertThrows(IllegalArgumentException.class, () -> d.withFaultAfter(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> d.withScenario(null));
        assertThrows(NullPointerException.class, () -> d.withClock(null));
    }
}
