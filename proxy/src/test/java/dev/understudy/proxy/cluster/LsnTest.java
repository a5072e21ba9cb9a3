package dev.understudy.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {

    @Test
    void readsPgLsnTextAsHighAndLowHalves() {
        assertEquals(0L, Lsn.parse("0/0"));
        assertEquals(0x16_B374_D848L, Lsn.parse("16/B374D848"));
        assertEquals(0x16_B374_D848L, Lsn.parse("16/b374d848"));
        assertEquals(0x1_0000_0000L, Lsn.parse("1/0"));
        assertEquals(0x7FFF_FFFF_FFFF_FFFFL, Lsn.parse("7FFFFFFF/FFFFFFFF"));
        assertEquals(Lsn.UNKNOWN, Lsn.parse(null));
    }

    @Test
    void differencesAreBytesOfWal() {
        assertEquals(0x100, Lsn.parse("0/3000100") - Lsn.parse("0/3000000"));
        assertEquals(16, Lsn.parse("1/8") - Lsn.parse("0/FFFFFFF8"));
    }

    @Test
    void printsAsPostgreSqlDoes() {
        assertEquals("16/B374D848", Lsn.format(Lsn.parse("16/B374D848")));
        assertEquals("0/0", Lsn.format(0));
        assertEquals("unknown", Lsn.format(Lsn.UNKNOWN));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "0/", "/0", "12", "1/2/3", "-1/0", "0/-1", "G/0", "123456789/0", "0/123456789",
            "80000000/0", " 0/0"})
    void rejectsWhatIsNotAPgLsn(String text) {
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse(text));
    }
}
