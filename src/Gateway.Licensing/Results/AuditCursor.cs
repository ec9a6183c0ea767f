namespace Gateway.Licensing.Results;

/// <summary>Where an audit listing continues: entries at or before <see cref="AtMs"/>, skipping the first <see cref="Skip"/> at exactly that time.</summary>
/// <param name="AtMs">The time of the last entry returned (store clock, ms since the Unix epoch).</param>
/// <param name="Skip">How many entries at exactly that time were returned already.</param>
public readonly record struct AuditCursor(long AtMs, int Skip);
