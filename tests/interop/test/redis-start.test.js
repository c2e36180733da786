// A hub started while Redis is unreachable (issue 14), on each bus: a clear periodic warning, no stack traces, ready
// once Redis is up. See redis-faults.js.
import { startUpTest } from "./redis-faults.js";

startUpTest("PubSub");
startUpTest("Streams");
