// Gateway tests start real processes and servers and use short store timeouts; on a small shared
// machine they are more reliable one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
