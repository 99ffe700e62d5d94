package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Alert;
import java.util.List;
import java.util.Optional;

/**
 * An alert with what the on-call engineer needs next to it. {@code runbookUrl} is empty when neither the
 * catalog nor the alert's own {@code runbook_url} annotation gave one: channels then show a visible
 * "no runbook" marker.
 */
public record EnrichedAlert(
        Alert alert,
        Optional<String> runbookUrl,
        Optional<String> ownerTeam,
        List<String> firstSteps,
        Optional<String> graphUrl,
        Optional<String> dashboardUrl,
        Optional<String> silenceUrl) {

    public EnrichedAlert {
        firstSteps = List.copyOf(firstSteps);
    }

    public boolean hasRunbook() {
        return runbookUrl.isPresent();
    }
}
