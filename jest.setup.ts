import { Testing } from "cdktf";

// Registers cdktf's matchers (toHaveResourceWithProperties, ...) on expect().
Testing.setupJest();
