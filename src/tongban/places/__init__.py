"""Places on one map (一张图): places, near-me search, boundaries, the 15-minute service circle."""
