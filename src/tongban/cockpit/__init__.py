"""The cockpit (驾驶舱): the indicators every slice publishes, kept fresh, scoped, suppressed, exported."""
