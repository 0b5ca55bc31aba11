"""What a tester controls: fault rules, the request journal, state documents and
snapshots, seed data, and the Backend that ties them to one registry."""
