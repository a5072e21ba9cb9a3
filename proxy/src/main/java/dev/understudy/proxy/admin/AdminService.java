package dev.understudy.proxy.admin;

/** Runs admin statements for the admin console of every listener of a node. */
public interface AdminService {

    /** Runs {@code statement} and answers it. */
    AdminResult execute(AdminStatement statement) throws AdminException;
}
