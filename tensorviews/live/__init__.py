"""The live channel's contract: the kernel snapshot files (where they live, how they are written
and read) and the one classifier of live values that the guard and the snapshot file share."""
