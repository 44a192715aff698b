// The team console with JavaScript: the journey in console-journey.js, axe on every page.
import { describeConsoleJourney } from './console-journey.js';

describeConsoleJourney({ javaScriptEnabled: true });
