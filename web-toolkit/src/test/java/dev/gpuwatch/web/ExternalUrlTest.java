package dev.gpuwatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExternalUrlTest {

    @Test
    void flagValuesAreKeptWithoutTheirTrailingSlash() {
        assertEquals(Optional.of(new ExternalUrl("https://receiver.example.com")),
                ExternalUrl.parse("https://receiver.example.com/"));
        assertEquals(Optional.of(new ExternalUrl("http://10.0.0.1:9095/gpuwatch")),
                ExternalUrl.parse(" http://10.0.0.1:9095/gpuwatch/ "));
        assertEquals("https://r.example/runbooks/x", ExternalUrl.parse("https://r.example").orElseThrow()
                .resolve("/runbooks/x"));
    }

    @Test
    void onlyAbsoluteHttpUrlsWithoutQueryOrFragmentAreAccepted() {
        for (String bad : List.of("", "receiver:9095", "/runbooks", "ftp://r.example", "https://r.example/?a=b",
                "https://r.example/#x", "https://user:pw@r.example", "http://", "not a url")) {
            assertEquals(Optional.empty(), ExternalUrl.parse(bad), bad);
        }
    }

    @Test
    void theDefaultIsTheListenAddressWithItsScheme() {
        assertEquals("http://127.0.0.1:9095", ExternalUrl.derived(Optional.of("127.0.0.1"), 9095, false).url());
        assertEquals("https://[::1]:9443", ExternalUrl.derived(Optional.of("::1"), 9443, true).url());
        // a wildcard host is no address to give out: this machine's name, as in Prometheus
        String wildcard = ExternalUrl.derived(Optional.empty(), 9095, false).url();
        assertEquals(wildcard, ExternalUrl.derived(Optional.of("0.0.0.0"), 9095, false).url());
        assertEquals(false, wildcard.contains("0.0.0.0"), wildcard);
    }
}
