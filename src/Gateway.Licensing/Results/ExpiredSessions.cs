namespace Gateway.Licensing.Results;

/// <summary>Counts of sessions a script ended because they had expired.</summary>
internal readonly record struct ExpiredSessions(int Idle, int Lifetime)
{
    public int Total => Idle + Lifetime;
}
