package dev.understudy.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDocTest {

    @Test
    void docsConfigurationMdIsTheGeneratedReference() throws IOException {
        Path doc = repositoryRoot().resolve("docs/configuration.md");
        String expected = ConfigDoc.markdown();
        if (!Files.isRegularFile(doc)) {
            fail(doc + " is missing. Generate it from the repository root, with java 21+ on the PATH: "
                    + ConfigDoc.REGENERATE);
        }
        String actual = Files.readString(doc, StandardCharsets.UTF_8);
        if (!actual.equals(expected)) {
            fail(doc + " is out of date with ConfigKey (first difference at line " + firstDifferentLine(actual, expected)
                    + "). Do not edit it by hand; regenerate it from the repository root, with java 21+ on the PATH: "
                    + ConfigDoc.REGENERATE);
        }
    }

    @Test
    void referenceListsEveryKeyWithItsFormAndDefault() {
        String markdown = ConfigDoc.markdown();

        for (ConfigKey key : ConfigKey.values()) {
            String row = markdown.lines().filter(l -> l.startsWith("| `" + key.key() + "` |")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + key.key()));
            assertTrue(row.contains(key.valueForm()), row);
            assertTrue(row.contains(key.description()), row);
            assertTrue(row.contains("**Secret.**") == key.secret(), row);
            if (key.required()) {
                assertTrue(row.contains("*required*"), row);
            }
        }
        assertTrue(markdown.contains("| `listen.port` | an integer between 0 and 65535 | `7432` |"), markdown);
    }

    @Test
    void exampleInTheReferenceIsAValidConfiguration(@TempDir Path dir) throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, ConfigDoc.EXAMPLE);

        assertEquals("pg1", config.master().name());
        assertEquals(2, config.users().size());
    }

    @Test
    void mainWritesTheReferenceToTheGivenFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("sub/configuration.md");

        ConfigDoc.main(new String[] {out.toString()});

        assertEquals(ConfigDoc.markdown(), Files.readString(out, StandardCharsets.UTF_8));
    }

    /** The nearest folder, from the working directory up, that holds docs/. */
    private static Path repositoryRoot() {
        Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs"))) {
                return dir;
            }
        }
        throw new AssertionError("no docs/ folder in " + start + " or above it");
    }

    private static int firstDifferentLine(String actual, String expected) {
        List<String> a = actual.lines().toList();
        List<String> e = expected.lines().toList();
        int i = 0;
        while (i < a.size() && i < e.size() && a.get(i).equals(e.get(i))) {
            i++;
        }
        return i + 1;
    }
}
