package dev.understudy.proxy.admin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What an admin statement answers: rows of text values under its statement's columns (none for a
 * statement that returns only a command tag), and the command tag.
 */
public record AdminResult(List<List<String>> rows, String tag) {

    public AdminResult {
        rows = rows.stream().map(r -> Collections.unmodifiableList(new ArrayList<>(r))).toList(); // values may be null
    }

    /** Rows, tagged as PostgreSQL tags a SHOW that returns rows ({@code SHOW}). */
    public static AdminResult rows(List<List<String>> rows) {
        return new AdminResult(rows, "SHOW");
    }
}
