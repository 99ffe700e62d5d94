package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/** {@code clocks}: current and maximum clocks per domain, and which clock-event (throttle) reasons are active. */
final class ClocksCollector extends SnapshotCollector {

    ClocksCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var clock = out.gauge("gpu_clock_hertz", "Current clock frequency of the domain named by the clock label.");
        var maxClock = out.gauge("gpu_clock_max_hertz", "Maximum clock frequency of the domain named by the clock label.");
        var event = out.gauge("gpu_clock_event_active", "1 while the clock-event (throttle) reason is active, else 0.");
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            for (ClockType t : ClockType.values()) {
                Long hz = s.clocksHertz().get(t);
                if (hz != null) {
                    clock.add(Families.gpuLabels(s, "clock", t.label()), hz);
                }
                Long max = s.maxClocksHertz().get(t);
                if (max != null) {
                    maxClock.add(Families.gpuLabels(s, "clock", t.label()), max);
                }
            }
            if (s.clockEventReasons().isPresent()) {
                Set<ClockEventReason> active = s.clockEventReasons().get();
                for (ClockEventReason r : ClockEventReason.values()) {
                    event.add(Families.gpuLabels(s, "reason", r.label()), active.contains(r) ? 1 : 0);
                }
            }
        }
    }
}
