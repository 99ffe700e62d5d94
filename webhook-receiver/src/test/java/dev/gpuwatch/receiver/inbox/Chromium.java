package dev.gpuwatch.receiver.inbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * Debian's headless Chromium driven by its chromedriver, as a CI machine (root, no display) runs it: the
 * binaries named outright so Selenium Manager never looks for (or downloads) others, a fresh user-data folder per
 * browser, no sandbox as root (Chromium refuses to start sandboxed as root). {@link #close} quits the browser and
 * stops the driver process.
 */
final class Chromium implements AutoCloseable {

    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();

    final ChromeDriver driver;
    private final ChromeDriverService service;

    Chromium(Path profile, int width, int height) {
        try {
            Files.createDirectories(profile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
        options.addArguments("--headless=new", "--user-data-dir=" + profile, "--window-size=" + width + "," + height,
                "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                "--force-device-scale-factor=1", "--lang=en-US");
        // the network events, for what a page cannot show: the status a browser got (a 401 renders blank)
        options.setCapability("goog:loggingPrefs", Map.of("performance", "ALL"));
        if ("root".equals(System.getProperty("user.name"))) {
            options.addArguments("--no-sandbox");
        }
        service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort()
                .withLogFile(profile.resolve("chromedriver.log").toFile()).build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
    }

    /** The HTTP statuses of the responses to {@code url} since the last call, from Chromium's network log. */
    List<Integer> statuses(String url) {
        List<Integer> out = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
            try {
                JsonNode message = JSON.readTree(entry.getMessage()).path("message");
                JsonNode response = message.path("params").path("response");
                if (message.path("method").asText().equals("Network.responseReceived")
                        && response.path("url").asText().equals(url)) {
                    out.add(response.path("status").asInt());
                }
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("chromedriver wrote a log entry that is no JSON", e);
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
