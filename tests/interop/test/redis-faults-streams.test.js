// Redis and hub faults under load with the Redis Streams bus (Herald:Redis:Bus=Streams), against hub processes:
// see redis-faults.js. With Streams a 15 s Redis outage loses nothing on either hub.
import { faultSuite } from "./redis-faults.js";

faultSuite("Streams");
