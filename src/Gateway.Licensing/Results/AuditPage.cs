namespace Gateway.Licensing.Results;

/// <summary>A page of audit entries, newest first; <see cref="Next"/> continues with older ones, null at the end.</summary>
/// <param name="Entries">The entries of this page, newest first.</param>
/// <param name="Next">The cursor of the next page; null when there is none.</param>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, AuditCursor? Next);
