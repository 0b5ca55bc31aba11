from cci_mock.cli import main

raise SystemExit(main())
