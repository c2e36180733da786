// Redis and hub faults under load with the pub/sub bus (the default), against hub processes: see redis-faults.js.
import { faultSuite } from "./redis-faults.js";

faultSuite("PubSub");
