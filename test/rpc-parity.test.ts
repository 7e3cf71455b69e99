// The parity cases of rpc-parity-cases.ts (torch's rpc_test.py) over the worker-threads transport.
import { parity } from "./rpc-parity-cases.js";
import { startThreadGroup } from "./rpc/thread-group.js";

parity({ label: "worker threads", blocks: true, start: startThreadGroup });
