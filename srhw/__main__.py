from srhw.cli import main

raise SystemExit(main())
