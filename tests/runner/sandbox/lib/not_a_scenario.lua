-- runner check: zonelab run passes over lib/: this file, run as a scenario, would fail.
error("lib/ files must not run as scenarios")
