package dev.understudy.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a YAML file into nested maps and lists whose leaves are the scalars' text exactly as
 * written (so {@code 0123} stays {@code "0123"} and {@code yes} is not a boolean), and notes the
 * line of every key. Messages never quote the file's content, which may hold passwords.
 */
final class YamlReader {
    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();

    /** The tree and, per dotted path ({@code listen.port}, {@code nodes[1]}), the line it starts on. */
    record Tree(Map<String, Object> root, Map<String, Integer> lines) {}

    private final YAMLParser parser;
    private final String source;
    private final Map<String, Integer> lines = new HashMap<>();

    private YamlReader(YAMLParser parser, String source) {
        this.parser = parser;
        this.source = source;
    }

    static Tree read(Path file) throws ConfigException {
        String source = file.toString();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                YAMLParser parser = FACTORY.createParser(reader)) {
            return new YamlReader(parser, source).document();
        } catch (NoSuchFileException e) {
            throw new ConfigException(source + ": configuration file not found", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(source + ": not valid UTF-8 text", e);
        } catch (JsonProcessingException e) {
            throw syntaxError(source, e);
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read the configuration file: " + e, e);
        }
    }

    private Tree document() throws IOException, ConfigException {
        JsonToken first = parser.nextToken();
        if (first == null) {
            return new Tree(Map.of(), Map.of());
        }
        if (first != JsonToken.START_OBJECT) {
            throw fileError("the file must be a YAML mapping of sections (cluster:, listen:, nodes:, ...)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) value(first, "");
        if (parser.nextToken() != null) {
            throw fileError("the file must hold one YAML document, found a second one");
        }
        return new Tree(root, Map.copyOf(lines));
    }

    private Object value(JsonToken token, String path) throws IOException, ConfigException {
        return switch (token) {
            case START_OBJECT -> mapping(path);
            case START_ARRAY -> sequence(path);
            case VALUE_NULL -> null;
            case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> {
                if (parser.isCurrentAlias()) {
                    throw keyError(path, "YAML aliases (*name) are not supported; write the value out");
                }
                yield parser.getText();
            }
            default -> throw keyError(path, "unsupported YAML value (" + token + ")");
        };
    }

    private Map<String, Object> mapping(String path) throws IOException, ConfigException {
        Map<String, Object> map = new LinkedHashMap<>();
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
            String name = parser.currentName();
            String child = path.isEmpty() ? name : path + "." + name;
            int line = parser.currentTokenLocation().getLineNr();
            if (map.containsKey(name)) {
                throw keyError(child, "duplicate key, first given at line " + lines.get(child));
            }
            lines.put(child, line);
            map.put(name, value(parser.nextToken(), child));
        }
        return map;
    }

    private List<Object> sequence(String path) throws IOException, ConfigException {
        List<Object> list = new ArrayList<>();
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
            String child = path + "[" + list.size() + "]";
            lines.put(child, parser.currentTokenLocation().getLineNr());
            list.add(value(t, child));
        }
        return list;
    }

    private ConfigException keyError(String path, String problem) {
        return new ConfigException(path, problem, source + " line " + parser.currentTokenLocation().getLineNr());
    }

    private ConfigException fileError(String problem) {
        return new ConfigException(source + " line " + parser.currentTokenLocation().getLineNr() + ": " + problem, null);
    }

    /** Line, column and SnakeYAML's description of the problem; never the offending text itself. */
    private static ConfigException syntaxError(String source, JsonProcessingException e) {
        if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked && marked.getProblemMark() != null) {
            String context = marked.getContext() == null ? "" : " (" + marked.getContext() + ")";
            return new ConfigException(String.format("%s line %d, column %d: YAML syntax error: %s%s", source,
                    marked.getProblemMark().getLine() + 1, marked.getProblemMark().getColumn() + 1,
                    marked.getProblem(), context), null);
        }
        var at = e.getLocation();
        String where = at == null ? source : source + " line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new ConfigException(where + ": YAML syntax error: " + e.getOriginalMessage(), null);
    }
}
