package dev.understudy.driver;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PropertyDocTest {

    @Test
    void docsDriverMdListsTheDriversPropertiesAsGenerated() throws IOException {
        Path doc = Path.of("").toAbsolutePath().getParent().resolve("docs/driver.md");
        String actual = Files.readString(doc, StandardCharsets.UTF_8);
        if (!actual.equals(PropertyDoc.regenerated(actual))) {
            fail(doc + " is out of date with DriverProperty; regenerate its table from the repository root: " + PropertyDoc.REGENERATE);
        }
        for (DriverProperty p : DriverProperty.values()) {
            assertTrue(actual.contains("| `" + p.key() + "` | `" + p.defaultValue() + "` |"), p.key());
        }
    }
}
