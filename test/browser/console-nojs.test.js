// The team console without JavaScript: the same journey must work with server-rendered pages
// and plain form posts alone, and every page must pass axe as it is served.
import { describeConsoleJourney } from './console-journey.js';

describeConsoleJourney({ javaScriptEnabled: false });
