from srhw.export.engine.project import main

raise SystemExit(main())
