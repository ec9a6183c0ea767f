// These tests start real gateway and Redis processes and measure outage timings; on a small shared
// machine they are more reliable one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
