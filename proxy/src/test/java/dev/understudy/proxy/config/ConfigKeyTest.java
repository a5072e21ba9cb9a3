package dev.understudy.proxy.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ConfigKeyTest {

    @ParameterizedTest
    @EnumSource(ConfigKey.class)
    void everyDefaultIsAcceptedByTheKeysOwnParser(ConfigKey key) {
        key.defaultValue().ifPresent(d -> assertDoesNotThrow(() -> key.parse(key.key(), d, null)));
    }

    @ParameterizedTest
    @EnumSource(ConfigKey.class)
    void everyKeyIsDocumentedInASection(ConfigKey key) {
        assertTrue(Section.named(key.section()).isPresent(), key.key());
        assertEquals(key.listElement(), Section.named(key.section()).orElseThrow().list(), key.key());
        assertFalse(key.description().isBlank(), key.key());
        assertFalse(key.valueForm().isBlank(), key.key());
        assertTrue(key.key().matches("[a-z]+(\\[\\])?\\.[a-z_]+"), key.key());
    }

    @ParameterizedTest
    @EnumSource(ConfigKey.class)
    void requiredKeysHaveNoDefault(ConfigKey key) {
        if (key.required()) {
            assertEquals(Optional.empty(), key.defaultValue(), key.key());
        }
    }

    @Test
    void everySectionHasKeys() {
        for (Section section : Section.values()) {
            assertFalse(section.keys().isEmpty(), section.key());
        }
    }

    @Test
    void keysAreUniqueAndFoundByName() {
        Set<String> names = Arrays.stream(ConfigKey.values()).map(ConfigKey::key).collect(Collectors.toSet());

        assertEquals(ConfigKey.values().length, names.size());
        assertEquals(Optional.of(ConfigKey.LISTEN_PORT), ConfigKey.forKey("listen.port"));
        assertEquals(Optional.of(ConfigKey.NODES_ROLE), ConfigKey.forKey("nodes[].role"));
        assertEquals(Optional.empty(), ConfigKey.forKey("listen"));
    }

    @Test
    void onlyPasswordsAreSecret() {
        List<ConfigKey> secrets = Arrays.stream(ConfigKey.values()).filter(ConfigKey::secret).toList();

        assertEquals(List.of(ConfigKey.BACKEND_PASSWORD, ConfigKey.CDC_PASSWORD, ConfigKey.USERS_PASSWORD), secrets);
    }

    @Test
    void suggestsTheNearestKnownKeyForATypo() {
        List<String> sections = Section.keysOfAll();

        assertEquals(Optional.of("listen"), DidYouMean.nearest("lisen", sections));
        assertEquals(Optional.of("zookeeper"), DidYouMean.nearest("zookeper", sections));
        assertEquals(Optional.of("users"), DidYouMean.nearest("Users", sections));
        assertEquals(Optional.of("port"), DidYouMean.nearest("prot", List.of("host", "port")));
        assertEquals(Optional.of("metrics"), DidYouMean.nearest("metric", sections));
        assertEquals(Optional.empty(), DidYouMean.nearest("telemetry", sections));
        assertEquals(Optional.empty(), DidYouMean.nearest("x", List.of("tls")));
    }
}
