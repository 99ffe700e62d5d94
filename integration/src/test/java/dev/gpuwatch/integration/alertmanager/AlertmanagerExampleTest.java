package dev.gpuwatch.integration.alertmanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.prometheus.Amtool;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** examples/alertmanager/alertmanager.yml is valid for Alertmanager 0.25 and routes by severity as documented. */
class AlertmanagerExampleTest {

    private static final Path CONFIG = Repository.path("examples/alertmanager/alertmanager.yml");

    @Test
    void theConfigIsValidAndPostsToTheGpuwatchWebhook() {
        ChildProcess.Finished check = Amtool.checkConfig(CONFIG);
        assertEquals(0, check.exitCode(), check.output());
        assertTrue(check.output().contains("5 inhibit rules"), check.output());
        assertTrue(Repository.read(CONFIG).contains("url: http://127.0.0.1:9095/api/v1/alerts"));
    }

    @ParameterizedTest
    @CsvSource({
            "GpuFellOffTheBus, critical, gpuwatch-page",
            "GpuThermalThrottling, warning, gpuwatch-ticket",
            "GpuXidError, info, blackhole",
            "InferenceErrorBudgetBurn, critical, gpuwatch-page",
            "GpuwatchReceiverDown, critical, 'bridge-fallback,gpuwatch-page'",
            "GpuwatchReceiverDeadLetters, warning, 'bridge-fallback,gpuwatch-ticket'"})
    void alertsAreRoutedBySeverity(String alertname, String severity, String receivers) {
        ChildProcess.Finished result = Amtool.run(Repository.root(), List.of("config", "routes", "test",
                "--config.file=" + CONFIG, "--verify.receivers=" + receivers, "alertname=" + alertname,
                "severity=" + severity));
        assertEquals(0, result.exitCode(), result.output());
    }
}
