package dev.gpuwatch.receiver.runbook;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The links to the runbooks this receiver serves: {@code <--web.external-url>/runbooks/<alertname lower>}, for
 * the alerts it has a runbook for.
 *
 * @param externalUrl {@code --web.external-url} without a trailing slash; a supplier because its default holds
 *     the port really bound, known once the receiver listens (port 0 picks one), which is before any delivery
 */
public record ServedRunbooks(RunbookLibrary library, Supplier<String> externalUrl) {

    /** The path the receiver serves them under. */
    public static final String PATH = "/runbooks/";

    /** No runbooks served: links come from the catalog and the alerts alone. */
    public static ServedRunbooks none() {
        return new ServedRunbooks(RunbookLibrary.load(Map.of()), () -> "");
    }

    /** The link to the alert's runbook, when this receiver has one. */
    public Optional<String> url(String alertname) {
        return library.nameFor(alertname).map(name -> externalUrl.get() + PATH + name);
    }
}
