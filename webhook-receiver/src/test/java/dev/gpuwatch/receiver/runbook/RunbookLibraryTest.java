package dev.gpuwatch.receiver.runbook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every runbook of docs/runbooks renders, under its alert's name, and only those names are served. */
class RunbookLibraryTest {

    /** The repository's folders, seen from this module (surefire runs in the module's folder). */
    private static final Path RUNBOOKS = Path.of("..", "docs", "runbooks");
    private static final Path RULES = Path.of("..", "rules");
    private static final Pattern ALERT = Pattern.compile("^\\s*- alert:\\s*(\\S+)\\s*$", Pattern.MULTILINE);
    private static final Pattern HREF = Pattern.compile("href=\"([^\"]*)\"");

    /** The alert names of rules/*.rules.yml. */
    static Set<String> alertNames() throws IOException {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(RULES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".rules.yml")).toList()) {
                Matcher m = ALERT.matcher(Files.readString(f));
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        return names;
    }

    @Test
    void everyRunbookRendersWithItsAlertNameAsTitle() throws IOException {
        RunbookLibrary library = RunbookLibrary.load(RUNBOOKS);
        Set<String> files;
        try (Stream<Path> list = Files.list(RUNBOOKS)) {
            files = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".md") && !n.equals("README.md"))
                    .map(n -> n.substring(0, n.length() - 3)).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, library.all().stream().map(Runbook::name).collect(Collectors.toCollection(TreeSet::new)));
        Map<String, String> alertByName = alertNames().stream()
                .collect(Collectors.toMap(a -> a.toLowerCase(java.util.Locale.ROOT), a -> a));
        for (Runbook r : library.all()) {
            String alert = alertByName.get(r.name());
            assertEquals(alert, r.title(), r.name() + ": the title is the alert's name");
            assertTrue(r.page().contains("<title>" + alert + "</title>"), r.name());
            assertTrue(r.page().contains("<h1>" + alert + "</h1>"), r.name());
            assertTrue(r.page().contains("<h2>What it means</h2>"), r.name());
            for (String href : hrefs(r.page())) {
                // relative links are to served runbooks (or the index); nothing ends in .md or leaves the folder
                if (!href.startsWith("http://") && !href.startsWith("https://")) {
                    String target = href.split("#", 2)[0];
                    assertTrue(target.equals("./") || library.runbook(target).isPresent(), r.name() + ": " + href);
                }
            }
        }
    }

    @Test
    void theBundledRunbooksAreTheRepositorysFolder() {
        RunbookLibrary bundled = RunbookLibrary.bundled();
        RunbookLibrary folder = RunbookLibrary.load(RUNBOOKS);
        assertEquals(folder.all(), bundled.all());
        assertEquals(folder.indexPage(), bundled.indexPage());
    }

    @Test
    void theIndexLinksEveryRunbook() {
        RunbookLibrary library = RunbookLibrary.load(RUNBOOKS);
        List<String> links = hrefs(library.indexPage());
        for (Runbook r : library.all()) {
            assertTrue(links.contains(r.name()), r.name() + " in the index: " + links);
        }
        assertFalse(library.indexPage().contains(".md\""), "links to .md files cannot open here");
    }

    @Test
    void linksBetweenRunbooksResolveAndOthersKeepTheirWords() {
        RunbookLibrary library = RunbookLibrary.load(Map.of(
                "a.md", "# AlertA\n\nSee [B](b.md#why), [rules](../../rules/README.md#x), [web](https://example.com/x)"
                        + " and [mail](javascript:alert(1)).\n\n<script>alert(1)</script>\n",
                "b.md", "# AlertB\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"));
        String a = library.runbook("a").orElseThrow().page();
        assertTrue(a.contains(" href=\"b#why\">B</a>"), a);
        assertTrue(a.contains(", rules, "), a);
        assertTrue(a.contains(" href=\"https://example.com/x\">web</a>"), a);
        assertFalse(a.contains("javascript:"), a);
        assertTrue(a.contains(" and mail."), "an unsafe link keeps its words only: " + a);
        assertFalse(a.contains("<script>"), a);
        assertTrue(a.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), a);
        assertTrue(library.runbook("b").orElseThrow().page().contains("<td>1</td>"), "tables render");
        // no README: the index lists the runbooks
        assertEquals(List.of("a", "b"), hrefs(library.indexPage()));
    }

    @Test
    void onlyNamesOfTheSetAreServed() {
        RunbookLibrary library = RunbookLibrary.load(RUNBOOKS);
        for (String name : List.of("", "README", "readme", "../pom", "..%2Fpom", "gpufelloffthebus.md",
                "GpuFellOffTheBus", "/etc/passwd", "gpufelloffthebus/", "nosuchalert")) {
            assertEquals(Optional.empty(), library.runbook(name), name);
        }
        assertTrue(library.runbook("gpufelloffthebus").isPresent());
        assertEquals(Optional.of("gpufelloffthebus"), library.nameFor("GpuFellOffTheBus"));
        assertEquals(Optional.empty(), library.nameFor("NodeDown"));
    }

    private static List<String> hrefs(String html) {
        return HREF.matcher(html).results().map(m -> m.group(1)).toList();
    }
}
